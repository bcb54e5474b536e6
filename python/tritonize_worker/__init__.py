"""The tritonize worker: checks and times one implementation of one task, in a process of its own.

Run as ``python -m tritonize_worker --request REQ.json --result RES.json``; docs/protocol.md is the contract.
torch and triton are imported lazily, inside the functions that need them, so that the protocol code and
``--help`` work without them.
"""
