// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {DeliveryMethod, ResponseParams, ResponseStatus, SourceParams, SourceStatus, TaskParams, TaskStatus} from "./Types.sol";

interface IManager {
    function hasRole(bytes32 role, address account) external view returns (bool);
}

interface ITerminal {
    function masterOf(address provider) external view returns (address);
    function isAgentOf(address principal, address agent) external view returns (bool);
}

interface IVault {
    function MIN_LOCKUP_PER_SOURCE() external view returns (uint256);
    function lockupOf(address account) external view returns (uint256);
    function sanctionOf(address account) external view returns (uint256);
    function isWhitelisted(address account) external view returns (bool);
    function depositLockup(address account) external payable;
    function freezePayment(address client, address task, uint256 amount) external;
    function releasePayment(address client, address task) external;
    function processPayment(address client, address provider, address task, uint256 amount) external;
}

interface INexus {
    function getSourceId(address source) external view returns (uint256);
    function emitTaskPublished(address task, address source) external;
    function setTaskStatus(address task, TaskStatus status) external;
    function setSourceStatus(address source, SourceStatus status) external;
    function setResponseStatus(address response, ResponseStatus status) external;
}

interface ISource {
    function owner() external view returns (address);
    function getStatus() external view returns (SourceStatus);
    function getSourceParams() external view returns (SourceParams memory);
    function getRegistrantId(address provider) external view returns (uint256);
    function setSourceParams(SourceParams calldata params) external;
    function setStatus(SourceStatus status) external;
    function register(address provider, uint8 preferredEnvironment) external returns (uint256);
    function unregister(address provider) external;
    function publishTask(address task) external;
}

interface ITask {
    function owner() external view returns (address);
    function getSource() external view returns (address);
    function getStatus() external view returns (TaskStatus);
    function getPayment() external view returns (uint256);
    function getDeliveryMethod() external view returns (DeliveryMethod);
    function getAttempterId(address provider) external view returns (uint256);
    function getAttemptCount() external view returns (uint256);
    function responseOf(address provider) external view returns (address);
    function getResponsesOf(uint256 lower, uint256 upper) external view returns (address[] memory);
    function isAlreadySubmitted(bytes32 dataHash) external view returns (bool);
    function attempt(address provider) external;
    function submitResponse(address response, address provider) external;
    function setStatus(TaskStatus status) external;
}

interface IResponse {
    function getResponseParams() external view returns (ResponseParams memory);
    function getStatus() external view returns (ResponseStatus);
    function confirmedFinal() external view returns (bool);
    function confirm() external;
    function setStatus(ResponseStatus status) external;
}

interface ISourceFactory {
    function nexus() external view returns (address);
    function create(SourceParams calldata params) external returns (address);
}

interface ITaskFactory {
    function pendingClient() external view returns (address);
    function create(TaskParams calldata params, DeliveryMethod deliveryMethod, address client)
        external
        returns (address);
}

interface IResponseFactory {
    function nexus() external view returns (address);
    function create(ResponseParams calldata params) external returns (address);
}
