"""The codec is standard library only: using it loads no eth-abi, eth-utils, web3..."""

from __future__ import annotations

from ..helpers.child import python_json

HEAVY = ("web3", "eth_abi", "eth_account", "eth_utils", "eth_hash", "eth_typing", "hexbytes")


def test_codec_loads_no_third_party_module() -> None:
    code = (
        "import json, sys\n"
        "from ogpu import abi\n"
        "data = abi.encode(('address', 'string', 'uint256[]'), ('0x' + '11' * 20, 'x', [1]))\n"
        "assert abi.decode(('address', 'string', 'uint256[]'), data)[2] == (1,)\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))\n"
    )
    assert python_json(code) == []
