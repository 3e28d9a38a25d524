// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Source} from "../Source.sol";
import {SourceParams} from "../Types.sol";

/// Devnet-only: deploys Source contracts for Nexus (keeps Nexus under EIP-170).
contract SourceFactory {
    address public immutable nexus;

    constructor(address _nexus) {
        nexus = _nexus;
    }

    function create(SourceParams calldata params) external returns (address) {
        require(msg.sender == nexus, "NotNexus");
        return address(new Source(params));
    }
}
