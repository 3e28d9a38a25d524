// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {FixedOwnable} from "./access/Ownable.sol";
import {IResponse, ITaskFactory} from "./Interfaces.sol";
import {DeliveryMethod, ResponseParams, TaskParams, TaskStatus} from "./Types.sol";

/// A unit of work published by a client (the owner) against a source.
/// Deployed by the TaskFactory for the Controller; mutated only by Nexus.
contract Task is FixedOwnable {
    TaskParams public taskParams;
    DeliveryMethod public deliveryMethod;
    address public winningProvider;

    address[] public attempters;
    uint256[] public attemptTimestamps;
    mapping(address => uint256) public attempterId;
    mapping(address => address) public responseOf;
    mapping(bytes32 => bool) public isAlreadySubmitted;

    address private immutable _nexus;
    TaskStatus private _state;
    address[] private _responses;

    modifier onlyNexus() {
        require(msg.sender == _nexus, "NotNexus");
        _;
    }

    constructor(TaskParams memory _taskParams, DeliveryMethod _deliveryMethod, address nexus)
        payable
        FixedOwnable(ITaskFactory(msg.sender).pendingClient())
    {
        taskParams = _taskParams;
        deliveryMethod = _deliveryMethod;
        _nexus = nexus;
    }

    /// NEW, ATTEMPTED and RESPONDED read as EXPIRED once block.timestamp > expiryTime.
    function status() public view returns (TaskStatus) {
        TaskStatus s = _state;
        if (s <= TaskStatus.RESPONDED && block.timestamp > taskParams.expiryTime) {
            return TaskStatus.EXPIRED;
        }
        return s;
    }

    function getStatus() external view returns (TaskStatus) {
        return status();
    }

    function getSource() external view returns (address) {
        return taskParams.source;
    }

    function getPayment() external view returns (uint256) {
        return taskParams.payment;
    }

    function getExpiryTime() external view returns (uint256) {
        return taskParams.expiryTime;
    }

    function getDeliveryMethod() external view returns (DeliveryMethod) {
        return deliveryMethod;
    }

    function getAttemptCount() external view returns (uint256) {
        return attempters.length;
    }

    /// 1-based slot of the provider; 0 when it has not attempted.
    function getAttempterId(address provider) external view returns (uint256) {
        return attempterId[provider];
    }

    function getAttempters(uint256 lower, uint256 upper) external view returns (address[] memory) {
        return _slice(attempters, lower, upper);
    }

    function getAttemptTimestamps(uint256 lower, uint256 upper)
        external
        view
        returns (uint256[] memory)
    {
        (lower, upper) = _clamp(attemptTimestamps.length, lower, upper);
        uint256[] memory out = new uint256[](upper - lower);
        for (uint256 i = lower; i < upper; ++i) {
            out[i - lower] = attemptTimestamps[i];
        }
        return out;
    }

    function getResponsesOf(uint256 lower, uint256 upper) external view returns (address[] memory) {
        return _slice(_responses, lower, upper);
    }

    function attempt(address provider) external onlyNexus {
        require(attempterId[provider] == 0, "AlreadyAttempted");
        attempters.push(provider);
        attemptTimestamps.push(block.timestamp);
        attempterId[provider] = attempters.length;
        if (_state == TaskStatus.NEW) {
            _state = TaskStatus.ATTEMPTED;
        }
    }

    function submitResponse(address response, address provider) external onlyNexus {
        require(attempterId[provider] != 0, "NotAttempted");
        require(responseOf[provider] == address(0), "AlreadySubmitted");
        bytes32 dataHash = keccak256(bytes(IResponse(response).getResponseParams().data));
        require(!isAlreadySubmitted[dataHash], "AlreadySubmitted");
        isAlreadySubmitted[dataHash] = true;
        responseOf[provider] = response;
        _responses.push(response);
        if (_state < TaskStatus.RESPONDED) {
            _state = TaskStatus.RESPONDED;
        }
    }

    /// FINALIZED records the provider of the confirmed response as the winner.
    function setStatus(TaskStatus _status) external onlyNexus {
        _state = _status;
        if (_status == TaskStatus.FINALIZED) {
            uint256 n = _responses.length;
            for (uint256 i = 0; i < n; ++i) {
                IResponse r = IResponse(_responses[i]);
                if (r.confirmedFinal()) {
                    ResponseParams memory p = r.getResponseParams();
                    winningProvider = p.provider;
                    break;
                }
            }
        }
    }

    function _slice(address[] storage items, uint256 lower, uint256 upper)
        private
        view
        returns (address[] memory out)
    {
        (lower, upper) = _clamp(items.length, lower, upper);
        out = new address[](upper - lower);
        for (uint256 i = lower; i < upper; ++i) {
            out[i - lower] = items[i];
        }
    }

    function _clamp(uint256 length, uint256 lower, uint256 upper)
        private
        pure
        returns (uint256, uint256)
    {
        if (upper > length) {
            upper = length;
        }
        if (lower > upper) {
            lower = upper;
        }
        return (lower, upper);
    }
}
