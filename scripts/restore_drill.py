"""``make restore-drill``: restore the newest backup of management's database into a scratch
database, check it, print RPO and RTO (argus_management.backup.drill; docs/operations.md)."""

import sys

from argus_management.backup.drill import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
