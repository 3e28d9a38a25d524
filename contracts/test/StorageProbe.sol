// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// Test fixture (never deployed by the devnet): storage written and read back in every
/// way a transaction or a call can, for the devnet's flat storage-read cache
/// (tests/devnet_chain/test_flat_storage.py).
contract StorageProbe {
    mapping(uint256 => uint256) public values;

    function set(uint256 key, uint256 value) external {
        values[key] = value;
    }

    /// Writes, then reverts: a mined transaction that changes nothing.
    function setAndRevert(uint256 key, uint256 value) external {
        values[key] = value;
        revert("StorageProbe: reverted");
    }

    /// Writes `value` at `key` and returns what a separate call frame reads there
    /// before and after the write (the optimizer cannot forward the value across it).
    function swap(uint256 key, uint256 value) external returns (uint256 before, uint256 afterwards) {
        before = this.values(key);
        values[key] = value;
        afterwards = this.values(key);
    }
}
