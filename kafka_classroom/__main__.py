"""`python -m kafka_classroom ...`: the same as the `kafka-classroom` command."""

import sys

from kafka_classroom.cli import main

sys.exit(main())
