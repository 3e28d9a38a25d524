// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// Single-owner access control. Error and event signatures match the ones in
/// the deployed ABIs so reverts decode by selector.
abstract contract Ownable {
    address private _owner;

    error OwnableUnauthorizedAccount(address account);
    error OwnableInvalidOwner(address owner);

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    constructor(address initialOwner) {
        if (initialOwner == address(0)) {
            revert OwnableInvalidOwner(address(0));
        }
        _setOwner(initialOwner);
    }

    modifier onlyOwner() {
        if (msg.sender != _owner) {
            revert OwnableUnauthorizedAccount(msg.sender);
        }
        _;
    }

    function owner() public view returns (address) {
        return _owner;
    }

    function renounceOwnership() public onlyOwner {
        require(!_ownerFixed(), "NotTransferable");
        _setOwner(address(0));
    }

    function transferOwnership(address newOwner) public onlyOwner {
        require(!_ownerFixed(), "NotTransferable");
        if (newOwner == address(0)) {
            revert OwnableInvalidOwner(address(0));
        }
        _setOwner(newOwner);
    }

    function _ownerFixed() internal pure virtual returns (bool) {
        return false;
    }

    function _setOwner(address newOwner) private {
        address previous = _owner;
        _owner = newOwner;
        emit OwnershipTransferred(previous, newOwner);
    }
}

/// Ownable whose owner is fixed at construction: the per-address protocol
/// contracts (Source, Task) identify their client by `owner()`, and escrow and
/// bookkeeping are keyed by that address.
abstract contract FixedOwnable is Ownable {
    constructor(address initialOwner) Ownable(initialOwner) {}

    function _ownerFixed() internal pure override returns (bool) {
        return true;
    }
}
