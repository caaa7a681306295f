import sys

from devstack.manifests.generate import main

sys.exit(main())
