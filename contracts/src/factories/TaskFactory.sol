// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Task} from "../Task.sol";
import {DeliveryMethod, TaskParams} from "../Types.sol";

/// Devnet-only: deploys Task contracts for the Controller. The new Task reads
/// its owner (the client) from `pendingClient` during construction.
contract TaskFactory {
    address public immutable controller;
    address public immutable nexus;
    address public pendingClient;

    constructor(address _controller, address _nexus) {
        controller = _controller;
        nexus = _nexus;
    }

    function create(TaskParams calldata params, DeliveryMethod deliveryMethod, address client)
        external
        returns (address task)
    {
        require(msg.sender == controller, "NotController");
        pendingClient = client;
        task = address(new Task(params, deliveryMethod, nexus));
        delete pendingClient;
    }
}
