"""``python -m argus_camsim`` runs the simulator CLI."""

from argus_camsim.cli import main

main()
