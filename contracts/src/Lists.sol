// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// Range reads with the paging the deployed mainnet contracts were recorded to
/// have (official ogpu 0.2.3, `ogpu/protocol/_base.py` `_paginated_call`:
/// "both bounds inclusive", index `length` panics 0x32; `ogpu/protocol/source.py`
/// `fetch_from_zero=True`: Source lists index their result absolutely).
///
/// Every index >= length panics 0x32 (array out of bounds): the item at `upper`
/// is read before the result is allocated, so a huge `upper` fails the same way
/// instead of running out of gas. `upper < lower` panics 0x11 (checked
/// arithmetic in `upper - lower`); this case was not recorded on mainnet.
library Lists {
    /// Items `lower..=upper`.
    function inclusive(address[] storage items, uint256 lower, uint256 upper)
        internal
        view
        returns (address[] memory out)
    {
        address last = items[upper];
        out = new address[](upper - lower + 1);
        for (uint256 i = lower; i < upper; ++i) {
            out[i - lower] = items[i];
        }
        out[upper - lower] = last;
    }

    /// Items `lower..=upper`.
    function inclusive(uint256[] storage items, uint256 lower, uint256 upper)
        internal
        view
        returns (uint256[] memory out)
    {
        uint256 last = items[upper];
        out = new uint256[](upper - lower + 1);
        for (uint256 i = lower; i < upper; ++i) {
            out[i - lower] = items[i];
        }
        out[upper - lower] = last;
    }

    /// Items `lower..=upper`, written at their absolute index into a result of
    /// `upper - lower + 1` slots: correct for `lower == 0`, panic 0x32 for any
    /// `lower > 0` (the write at index `upper` falls outside the result).
    function absolute(address[] storage items, uint256 lower, uint256 upper)
        internal
        view
        returns (address[] memory out)
    {
        items[upper];
        out = new address[](upper - lower + 1);
        if (lower == 0) {
            copyPrefix(items, out);
            return out;
        }
        // Panics 0x32 once i reaches out.length (<= upper), as recorded on mainnet.
        for (uint256 i = lower; i <= upper; ++i) {
            out[i] = items[i];
        }
    }

    /// `out[i] = items[i]` for every `i < out.length`; the caller has checked that
    /// `out.length <= items.length`. Same result as the checked loop above, masking
    /// included, with one SLOAD per item and no keccak: `getTasks(0, 2999)` runs 25
    /// EVM steps per item instead of 117 (with `returnAddresses`), which is what the
    /// devnet's interpreter (py-evm) pays for; geth's cost is the SLOADs either way.
    function copyPrefix(address[] storage items, address[] memory out) private view {
        assembly ("memory-safe") {
            mstore(0, items.slot)
            let slot := keccak256(0, 0x20)
            let at := add(out, 0x20)
            let end := add(at, shl(5, mload(out)))
            let mask := sub(shl(160, 1), 1)
            for {} lt(at, end) { at := add(at, 0x20) } {
                mstore(at, and(sload(slot), mask))
                slot := add(slot, 1)
            }
        }
    }

    /// Ends the external call with `out` as its one `address[]` result, ABI-encoded in
    /// place: the offset word goes just below `out` (overwritten memory is never read
    /// again). The same bytes as `return out;` (items are clean: `copyPrefix` masks
    /// them), without the ABI encoder's second pass over the items.
    function returnAddresses(address[] memory out) internal pure {
        assembly {
            let head := sub(out, 0x20)
            mstore(head, 0x20)
            return(head, add(0x40, shl(5, mload(out))))
        }
    }
}
