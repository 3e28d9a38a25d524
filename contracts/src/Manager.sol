// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControl} from "./access/AccessControl.sol";
import {CONTROLLER_ROLE, JUDGE_ROLE, PROVIDER_ROLE} from "./Types.sol";

/// Role registry shared by the suite. The deployer holds DEFAULT_ADMIN_ROLE
/// (which administers every role); the Controller holds CONTROLLER.
contract Manager is AccessControl {
    bytes32 public constant CONTROLLER = CONTROLLER_ROLE;
    bytes32 public constant JUDGE = JUDGE_ROLE;
    bytes32 public constant PROVIDER = PROVIDER_ROLE;

    constructor() {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
    }
}
