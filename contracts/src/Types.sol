// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

// Shared enums and structs. Declared at file level so the ABI's internalType
// reads `enum TaskStatus` / `struct SourceParams`, as on the live networks.

enum TaskStatus {
    NEW,
    ATTEMPTED,
    RESPONDED,
    CANCELED,
    EXPIRED,
    FINALIZED
}

enum SourceStatus {
    ACTIVE,
    INACTIVE
}

enum ResponseStatus {
    SUBMITTED,
    CONFIRMED
}

enum DeliveryMethod {
    MANUAL_CONFIRMATION,
    FIRST_RESPONSE
}

struct SourceParams {
    address client;
    string imageMetadataUrl;
    uint8 imageEnvironments;
    uint256 minPayment;
    uint256 minAvailableLockup;
    uint256 maxExpiryDuration;
    bool privacyEnabled;
    string optionalParamsUrl;
    DeliveryMethod deliveryMethod;
    uint256 lastUpdateTime;
}

struct TaskParams {
    address source;
    string config;
    uint256 expiryTime;
    uint256 payment;
}

struct ResponseParams {
    address task;
    address provider;
    string data;
    uint256 payment;
}

// Environment bit flags: CPU = 1, NVIDIA = 2, AMD = 4.
uint8 constant ALL_ENVIRONMENTS = 7;

bytes32 constant CONTROLLER_ROLE = keccak256("CONTROLLER");
bytes32 constant PROVIDER_ROLE = keccak256("PROVIDER");
bytes32 constant JUDGE_ROLE = keccak256("JUDGE");
