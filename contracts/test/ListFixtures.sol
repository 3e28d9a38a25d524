// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Lists} from "../src/Lists.sol";
import {Response} from "../src/Response.sol";
import {Source} from "../src/Source.sol";
import {Task} from "../src/Task.sol";
import {DeliveryMethod, ResponseParams, SourceParams, TaskParams} from "../src/Types.sol";

/// Test fixture (never deployed by the devnet): stands in for Nexus and the factories,
/// so a test builds long lists on the real Source and Task contracts in a few
/// transactions. List items are synthetic addresses `address(uint160(base + i))`.
contract ListBuilder {
    /// Read by Task's constructor (as from the TaskFactory).
    address public pendingClient;

    /// Read by the Source and Response constructors (as from their factories).
    function nexus() external view returns (address) {
        return address(this);
    }

    function newSource(SourceParams calldata params) external returns (address) {
        return address(new Source(params));
    }

    function newTask(TaskParams calldata params) external returns (address task) {
        pendingClient = msg.sender;
        task = address(new Task(params, DeliveryMethod.MANUAL_CONFIRMATION, address(this)));
        delete pendingClient;
    }

    function addTasks(address source, uint256 base, uint256 n) external {
        for (uint256 i = 0; i < n; ++i) {
            Source(source).publishTask(address(uint160(base + i)));
        }
    }

    function addRegistrants(address source, uint256 base, uint256 n) external {
        for (uint256 i = 0; i < n; ++i) {
            Source(source).register(address(uint160(base + i)), 1);
        }
    }

    function addAttempts(address task, uint256 base, uint256 n) external {
        for (uint256 i = 0; i < n; ++i) {
            Task(task).attempt(address(uint160(base + i)));
        }
    }

    /// A real Response from `provider` (which must have attempted), with unique `data`.
    function respond(address task, address provider, string calldata data)
        external
        returns (address response)
    {
        response = address(new Response(ResponseParams(task, provider, data, 0)));
        Task(task).submitResponse(response, provider);
    }
}

/// Test fixture: `getSourceCount`/`getSources` with the Nexus selectors under each paging
/// convention a deployed Nexus might have (its mainnet behaviour is not recorded).
contract SourceListFixture {
    uint8 public constant INCLUSIVE = 0; // as the devnet's Nexus (Lists.inclusive)
    uint8 public constant HALF_OPEN_CLAMPED = 1; // [lower, upper), bounds clamped to the length
    uint8 public constant HALF_OPEN_STRICT = 2; // [lower, upper), panic 0x32 when upper > length

    uint8 public immutable mode;
    address[] private _sources;

    constructor(uint8 _mode) {
        require(_mode <= HALF_OPEN_STRICT, "mode");
        mode = _mode;
    }

    function add(uint256 base, uint256 n) external {
        for (uint256 i = 0; i < n; ++i) {
            _sources.push(address(uint160(base + i)));
        }
    }

    function getSourceCount() external view returns (uint256) {
        return _sources.length;
    }

    function getSources(uint256 lower, uint256 upper) external view returns (address[] memory out) {
        if (mode == INCLUSIVE) {
            return Lists.inclusive(_sources, lower, upper);
        }
        if (mode == HALF_OPEN_CLAMPED) {
            upper = upper > _sources.length ? _sources.length : upper;
            lower = lower > upper ? upper : lower;
        } else if (upper > lower) {
            _sources[upper - 1];
        }
        out = new address[](upper - lower);
        for (uint256 i = lower; i < upper; ++i) {
            out[i - lower] = _sources[i];
        }
    }
}
