// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "./access/Ownable.sol";
import {IResponseFactory} from "./Interfaces.sol";
import {ResponseParams, ResponseStatus} from "./Types.sol";

/// A provider's answer to a task. Deployed by the ResponseFactory; owned by Nexus.
contract Response is Ownable {
    ResponseParams public responseParams;
    ResponseStatus public status;
    uint256 public responseTimestamp;
    bool public confirmedFinal;

    constructor(ResponseParams memory _responseParams)
        payable
        Ownable(IResponseFactory(msg.sender).nexus())
    {
        responseParams = _responseParams;
        responseTimestamp = block.timestamp;
    }

    function getResponseParams() external view returns (ResponseParams memory) {
        return responseParams;
    }

    function getStatus() external view returns (ResponseStatus) {
        return status;
    }

    function confirm() external onlyOwner {
        require(status == ResponseStatus.SUBMITTED, "AlreadyConfirmed");
        status = ResponseStatus.CONFIRMED;
        confirmedFinal = true;
    }

    function setStatus(ResponseStatus _status) external onlyOwner {
        status = _status;
        confirmedFinal = _status == ResponseStatus.CONFIRMED;
    }
}
