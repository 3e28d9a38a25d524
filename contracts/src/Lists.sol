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
        for (uint256 i = lower; i <= upper; ++i) {
            out[i] = items[i];
        }
    }
}
