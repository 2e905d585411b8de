# Runs LocalStack's runtime in this process for one jest suite (localstack.ts sets the whole
# environment; argv[1] is the suite's scratch dir). The parent holds our stdin open; when it goes
# away without stopping us (a killed jest worker), stdin closes and we shut down and clean up
# instead of lingering.
import atexit
import os
import shutil
import signal
import sys
import threading
import time

scratch = sys.argv[1]


def stop_when_parent_goes():
    # Raw reads: a buffered stdin's lock, held by this daemon thread, aborts interpreter shutdown.
    while os.read(sys.stdin.fileno(), 4096):
        pass
    atexit.register(shutil.rmtree, scratch, True)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(15)  # a clean shutdown takes well under a second
    os._exit(1)


threading.Thread(target=stop_when_parent_goes, daemon=True).start()

from localstack.runtime.main import main  # noqa: E402  (after the watcher, so an import hang is covered too)

main()
