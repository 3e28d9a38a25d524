"""The devnet provider runtime: run your source's service against a chain, end to end.

On the live networks a provider node runs your source's docker image, picks
up tasks, calls the image's service and submits the results. This package
plays that node locally, so a source developer can check the whole round trip
(``TaskPublished`` -> attempt -> ``POST /run`` -> callback -> pin ->
``submitResponse``) against the devnet before publishing an image.

Run your service against the devnet
-----------------------------------

1. Start the devnet (JSON-RPC on 127.0.0.1:8545, content store on :5001)::

       ogpu devnet

2. Start your service (here the example; in your image it is
   ``ogpu.service.start()``), with ``CALLBACK_URL`` pointing at the runtime's
   callback server (step 4 binds port 8600)::

       CALLBACK_URL=http://127.0.0.1:8600/callback PORT=5555 python examples/sentiment_source.py

3. Publish a source as a client (``CLIENT_PRIVATE_KEY``; ``ogpu devnet`` prints
   the devnet's funded keys)::

       ogpu source publish source.toml --chain devnet

4. Run the provider runtime for that source. ``--register`` pairs the provider
   with its master (``MASTER_PRIVATE_KEY``) and registers it to the source::

       ogpu provider run --chain devnet --service-url http://127.0.0.1:5555 \\
           --callback-port 8600 --source 0xSOURCE --register

5. Publish tasks (``ogpu task publish task.toml --chain devnet``) and follow
   them (``ogpu task watch 0xTASK --chain devnet``): the runtime prints each step.

From Python::

    from ogpu.devnet import connect_devnet
    from ogpu.provider import ProviderRuntime, RuntimeSettings, prepare_provider

    connect_devnet()                                   # http://127.0.0.1:8545
    prepare_provider(PROVIDER_KEY, [source], master=MASTER_KEY)
    settings = RuntimeSettings(service_url="http://127.0.0.1:5555", callback_port=8600)
    with ProviderRuntime(PROVIDER_KEY, settings, sources=[source], on_event=print):
        ...                                            # tasks are served until exit

A service in a container reaches the host's callback server through
``RuntimeSettings(callback_url="http://host.docker.internal:8600/callback")``
(``ogpu provider run --callback-url``) with ``--callback-host 0.0.0.0``.

See :mod:`ogpu.provider.runtime` for the steps, costs and failure handling,
:mod:`ogpu.provider.callback` for the callback endpoint's answers, and
:mod:`ogpu.devnet.connect` for how the devnet's contract addresses are found.
"""

from typing import TYPE_CHECKING

from ogpu._lazy import lazy_imports

if TYPE_CHECKING:
    from ogpu.devnet.connect import (
        DEFAULT_DEVNET_RPC_URL,
        DevnetConnection,
        connect_devnet,
        deterministic_addresses,
        load_deployment,
    )
    from ogpu.provider.callback import CallbackResult, CallbackServer
    from ogpu.provider.runtime import (
        ProviderRuntime,
        ProviderRuntimeError,
        RuntimeEvent,
        RuntimeSettings,
    )
    from ogpu.provider.setup import DEFAULT_STAKE, prepare_provider
else:  # loaded on first access: connecting to a devnet (ogpu.devnet.connect, re-exported
    # here) costs none of the runtime's web3 and eth-account imports
    __getattr__, __dir__ = lazy_imports(__name__, globals())

__all__ = [
    "DEFAULT_DEVNET_RPC_URL",
    "DEFAULT_STAKE",
    "CallbackResult",
    "CallbackServer",
    "DevnetConnection",
    "ProviderRuntime",
    "ProviderRuntimeError",
    "RuntimeEvent",
    "RuntimeSettings",
    "connect_devnet",
    "deterministic_addresses",
    "load_deployment",
    "prepare_provider",
]
