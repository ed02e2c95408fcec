"""``python -m synth``: the synthesis flow's command line (:func:`synth.main`)."""

import sys

from . import main

sys.exit(main())
