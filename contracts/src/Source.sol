// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {FixedOwnable} from "./access/Ownable.sol";
import {INexus, ISourceFactory} from "./Interfaces.sol";
import {Lists} from "./Lists.sol";
import {SourceParams, SourceStatus} from "./Types.sol";

/// An AI service published by a client. Deployed by the SourceFactory on
/// behalf of Nexus; owned by the client (`sourceParams.client`).
contract Source is FixedOwnable {
    address public nexus;
    SourceParams public sourceParams;
    SourceStatus public status;

    address[] public registrants;
    mapping(address => uint256) public registrantId;
    mapping(address => uint8) public preferredEnvironmentOf;
    address[] public tasks;

    modifier onlyNexus() {
        require(msg.sender == nexus, "NotNexus");
        _;
    }

    constructor(SourceParams memory _sourceParams) payable FixedOwnable(_sourceParams.client) {
        nexus = ISourceFactory(msg.sender).nexus();
        sourceParams = _sourceParams;
    }

    function getClient() external view returns (address) {
        return sourceParams.client;
    }

    function getSourceParams() external view returns (SourceParams memory) {
        return sourceParams;
    }

    function getStatus() external view returns (SourceStatus) {
        return status;
    }

    function getRegistrantCount() external view returns (uint256) {
        return registrants.length;
    }

    /// 1-based slot of the provider; 0 when not registered.
    function getRegistrantId(address provider) external view returns (uint256) {
        return registrantId[provider];
    }

    /// Mainnet paging (official ogpu 0.2.3 `ogpu/protocol/source.py`, `fetch_from_zero=True`,
    /// over `_base.py` `_paginated_call`): both bounds inclusive, panic 0x32 for any index
    /// >= getRegistrantCount(), and the result indexed absolutely, so any `lower > 0`
    /// panics 0x32; panic 0x11 when upper < lower (see Lists.absolute).
    function getRegistrants(uint256 lower, uint256 upper) external view returns (address[] memory) {
        Lists.returnAddresses(Lists.absolute(registrants, lower, upper));
    }

    function getTaskCount() external view returns (uint256) {
        return tasks.length;
    }

    /// Mainnet paging as getRegistrants (official 0.2.3 `ogpu/protocol/source.py`,
    /// `fetch_from_zero=True`): inclusive, absolute, so only `getTasks(0, n)` with
    /// `n < getTaskCount()` succeeds.
    function getTasks(uint256 lower, uint256 upper) external view returns (address[] memory) {
        Lists.returnAddresses(Lists.absolute(tasks, lower, upper));
    }

    function setSourceParams(SourceParams calldata _sourceParams) external onlyNexus {
        sourceParams = _sourceParams;
    }

    /// Nexus sets any status; the owner may only inactivate (one-way), and
    /// Nexus is told so it emits SourceStatusChanged.
    function setStatus(SourceStatus _status) external {
        if (msg.sender == nexus) {
            status = _status;
            return;
        }
        require(msg.sender == owner(), "NotOwner");
        require(status == SourceStatus.ACTIVE, "SourceInactive");
        if (_status == SourceStatus.INACTIVE) {
            status = _status;
            INexus(nexus).setSourceStatus(address(this), _status);
        }
    }

    function register(address provider, uint8 preferredEnvironment)
        external
        onlyNexus
        returns (uint256)
    {
        require(registrantId[provider] == 0, "AlreadyRegistered");
        registrants.push(provider);
        uint256 id = registrants.length;
        registrantId[provider] = id;
        preferredEnvironmentOf[provider] = preferredEnvironment;
        return id;
    }

    /// Swap-and-pop: the last registrant takes the freed slot.
    function unregister(address provider) external onlyNexus {
        uint256 id = registrantId[provider];
        require(id != 0, "NotRegistered");
        address last = registrants[registrants.length - 1];
        registrants[id - 1] = last;
        registrantId[last] = id;
        registrants.pop();
        delete registrantId[provider];
        delete preferredEnvironmentOf[provider];
    }

    function publishTask(address task) external onlyNexus {
        tasks.push(task);
    }
}
