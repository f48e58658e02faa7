"""CLI commands, one module per command or group. Each module defines ``register(cli)``;
:mod:`bot.cli` discovers them, so adding a command touches no other file."""
