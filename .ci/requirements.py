"""Print setup.cfg's requirements (install_requires + the extras named on the command line), one per line,
without `tensorflow`: CI installs the `tensorflow-cpu` wheel, which pip does not count as `tensorflow`."""

import configparser
import os
import sys

config = configparser.ConfigParser()
config.read(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "setup.cfg"))
sections = [config["options"]["install_requires"]] + [config["options.extras_require"][extra] for extra in sys.argv[1:]]
requirements = {line.strip() for section in sections for line in section.splitlines() if line.strip()}
print("\n".join(sorted(r for r in requirements if not r.startswith("tensorflow>") and r != "tensorflow")))
