// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {FixedOwnable} from "./access/Ownable.sol";
import {IResponse, ITaskFactory} from "./Interfaces.sol";
import {Lists} from "./Lists.sol";
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

    /// Mainnet paging (official ogpu 0.2.3 `ogpu/protocol/_base.py` `_paginated_call`):
    /// both bounds inclusive, `getAttempters(0, 1)` returns indices 0 and 1; panic 0x32
    /// for any index >= getAttemptCount(); panic 0x11 when upper < lower (see Lists).
    function getAttempters(uint256 lower, uint256 upper) external view returns (address[] memory) {
        return Lists.inclusive(attempters, lower, upper);
    }

    /// Mainnet paging as getAttempters (official 0.2.3 `_base.py` `_paginated_call`).
    function getAttemptTimestamps(uint256 lower, uint256 upper)
        external
        view
        returns (uint256[] memory)
    {
        return Lists.inclusive(attemptTimestamps, lower, upper);
    }

    /// The response of each attempter in slots `lower..=upper` (zero address where that
    /// attempter has not responded), so the list is as long as getAttemptCount().
    /// Mainnet paging as getAttempters (official 0.2.3 `_base.py` `_paginated_call`,
    /// which bounds this list by getAttemptCount() and drops zero addresses).
    function getResponsesOf(uint256 lower, uint256 upper) external view returns (address[] memory) {
        address[] memory out = Lists.inclusive(attempters, lower, upper);
        for (uint256 i = 0; i < out.length; ++i) {
            out[i] = responseOf[out[i]];
        }
        return out;
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
        if (_state < TaskStatus.RESPONDED) {
            _state = TaskStatus.RESPONDED;
        }
    }

    /// FINALIZED records the provider of the confirmed response as the winner.
    function setStatus(TaskStatus _status) external onlyNexus {
        _state = _status;
        if (_status == TaskStatus.FINALIZED) {
            uint256 n = attempters.length;
            for (uint256 i = 0; i < n; ++i) {
                address response = responseOf[attempters[i]];
                if (response == address(0)) {
                    continue;
                }
                IResponse r = IResponse(response);
                if (r.confirmedFinal()) {
                    ResponseParams memory p = r.getResponseParams();
                    winningProvider = p.provider;
                    break;
                }
            }
        }
    }
}
