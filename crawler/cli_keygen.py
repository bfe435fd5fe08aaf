"""``lastseen keygen``: make the Ed25519 key pair that signs exports and bundles (registered in cli.py).

Thin: :func:`crawler.signing.generate_key` writes the keys; this prints where, and the public key's
fingerprint with the OpenSSL command that prints it too. Exit status 2 when the key exists (without
``--force``) or the path is inside an archive.
"""

from __future__ import annotations

import shlex

import click


@click.command()
@click.option(
    "--key",
    "key_path",
    default=None,
    metavar="PATH",
    type=click.Path(dir_okay=False),
    help="Where to write the private key (the public key goes to PATH.pub). "
    "Default: $XDG_CONFIG_HOME/lastseen/signing.key, else ~/.config/lastseen/signing.key.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing key (what it signed will not check against the new one).",
)
def keygen(key_path, force):
    """Make an Ed25519 signing key pair, outside any archive, for `settings.signing_key`.

    The private key is unencrypted PKCS#8 PEM, mode 0600; the public key (PEM) is written beside it as
    PATH.pub: hand that one out. An existing key is never replaced without --force.
    """
    from pathlib import Path

    from .formatting import printable
    from .signing import FINGERPRINT_COMMAND, generate_key

    pair = generate_key(Path(key_path) if key_path else None, force=force)
    click.echo(
        printable(
            f"lastseen keygen: private key {pair.key} (mode 0600; keep it secret, outside the archive)"
        )
    )
    click.echo(printable(f"lastseen keygen: public key {pair.pub}"))
    click.echo(f"fingerprint (SHA-256 of the public key, DER): {pair.fingerprint}")
    click.echo(
        printable(
            f"  check it: {FINGERPRINT_COMMAND.format(pub=shlex.quote(str(pair.pub)))}"
        )
    )
    click.echo(printable(f"  sign with it: settings.signing_key: {pair.key}"))
