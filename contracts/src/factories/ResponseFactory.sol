// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Response} from "../Response.sol";
import {ResponseParams} from "../Types.sol";

/// Devnet-only: deploys Response contracts for Nexus (keeps Nexus under EIP-170).
contract ResponseFactory {
    address public immutable nexus;

    constructor(address _nexus) {
        nexus = _nexus;
    }

    function create(ResponseParams calldata params) external returns (address) {
        require(msg.sender == nexus, "NotNexus");
        return address(new Response(params));
    }
}
