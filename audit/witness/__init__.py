"""Witnesses: services run by others than the office (an accountability board, a newsroom, a university), each with
its own key and clock, that cosign a checkpoint of an office's log only when it is consistent with the last one they
cosigned (c2sp.org/tlog-witness). A package that carries their cosignatures shows that the office told the same,
append-only history to everyone who watched.

    keys.py      the witness's key pair, its public key as a C2SP vkey line (name and key together)
    service.py   what a witness checks, cosigns, keeps and keeps as evidence
    server.py    `audit witness serve`: the service over HTTP
    client.py    asking witnesses: for cosignatures (publish), for their latest checkpoint (verify)
"""
