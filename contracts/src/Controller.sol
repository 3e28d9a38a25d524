// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "./access/Ownable.sol";
import {INexus, IResponse, ISource, ITask, ITaskFactory, ITerminal, IVault} from "./Interfaces.sol";
import {
    ResponseParams,
    ResponseStatus,
    SourceParams,
    SourceStatus,
    TaskParams,
    TaskStatus
} from "./Types.sol";

/// Client-side task lifecycle: publish (with escrow), confirm, cancel.
contract Controller is Ownable {
    address public nexus;
    address public terminal;
    address public vault;
    address public taskFactory;

    mapping(address => bool) private _published;

    constructor(address _nexus, address _terminal, address _vault) Ownable(msg.sender) {
        nexus = _nexus;
        terminal = _terminal;
        vault = _vault;
    }

    /// Deploys a Task owned by the caller and escrows `payment` from the
    /// caller's liquid vault balance.
    function publishTask(TaskParams calldata _taskParams) external {
        address source = _taskParams.source;
        require(INexus(nexus).getSourceId(source) != 0, "UnknownSource");
        require(ISource(source).getStatus() == SourceStatus.ACTIVE, "SourceInactive");
        SourceParams memory sp = ISource(source).getSourceParams();
        require(_taskParams.payment >= sp.minPayment, "PaymentTooLow");
        require(_taskParams.expiryTime > block.timestamp, "Expired");
        require(
            _taskParams.expiryTime - block.timestamp <= sp.maxExpiryDuration, "ExpiryTooLong"
        );
        address task = ITaskFactory(taskFactory).create(_taskParams, sp.deliveryMethod, msg.sender);
        _published[task] = true;
        IVault(vault).freezePayment(msg.sender, task, _taskParams.payment);
        INexus(nexus).emitTaskPublished(task, source);
    }

    /// The task's client (or its agent) accepts a response: the task is
    /// finalized and the provider paid.
    function confirmResponse(address response) external {
        require(response.code.length != 0, "UnknownResponse");
        ResponseParams memory rp;
        try IResponse(response).getResponseParams() returns (ResponseParams memory params) {
            rp = params;
        } catch {
            revert("UnknownResponse");
        }
        address task = rp.task;
        require(
            _published[task] && ITask(task).responseOf(rp.provider) == response, "UnknownResponse"
        );
        address client = ITask(task).owner();
        require(
            msg.sender == client || ITerminal(terminal).isAgentOf(client, msg.sender), "NotOwner"
        );
        require(IResponse(response).getStatus() == ResponseStatus.SUBMITTED, "AlreadyConfirmed");
        TaskStatus s = ITask(task).getStatus();
        require(s != TaskStatus.FINALIZED && s != TaskStatus.CANCELED, "AlreadyFinalized");
        INexus(nexus).setResponseStatus(response, ResponseStatus.CONFIRMED);
    }

    /// The client cancels a NEW task, or an EXPIRED one without responses,
    /// and gets the escrow back.
    function cancelTask(address task) external {
        require(_published[task], "UnknownTask");
        address client = ITask(task).owner();
        require(msg.sender == client, "NotOwner");
        TaskStatus s = ITask(task).getStatus();
        require(s != TaskStatus.FINALIZED, "AlreadyFinalized");
        bool reclaim = s == TaskStatus.EXPIRED && !_hasResponse(task);
        require(s == TaskStatus.NEW || reclaim, "NotCancelable");
        INexus(nexus).setTaskStatus(task, TaskStatus.CANCELED);
        IVault(vault).releasePayment(client, task);
    }

    function setNexus(address _nexus) external onlyOwner {
        nexus = _nexus;
    }

    function setTerminal(address _terminal) external onlyOwner {
        terminal = _terminal;
    }

    function setVault(address _vault) external onlyOwner {
        vault = _vault;
    }

    /// Devnet-only wiring of the Task factory.
    function setTaskFactory(address _taskFactory) external onlyOwner {
        taskFactory = _taskFactory;
    }

    /// getResponsesOf is inclusive and panics past the end (mainnet paging), so the
    /// attempt count bounds the read.
    function _hasResponse(address task) private view returns (bool) {
        uint256 n = ITask(task).getAttemptCount();
        if (n == 0) {
            return false;
        }
        address[] memory responses = ITask(task).getResponsesOf(0, n - 1);
        for (uint256 i = 0; i < n; ++i) {
            if (responses[i] != address(0)) {
                return true;
            }
        }
        return false;
    }
}
