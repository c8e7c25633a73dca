"""Closed-loop keep-alive load with Python requests: one Session per worker, library defaults.

Usage: /usr/bin/python3 python_requests.py PORT WORKERS. Prints one line per attempt: ok,
refused (nothing was sent), or fail <why>. Runs until killed.
"""
import sys
import threading

import requests

port, workers = int(sys.argv[1]), int(sys.argv[2])
url = "http://127.0.0.1:%d/hello" % port
lock = threading.Lock()


def out(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def worker():
    session = requests.Session()
    while True:
        try:
            response = session.get(url, timeout=10)
            out("ok" if response.status_code == 200 else "fail status %d" % response.status_code)
        except requests.exceptions.ConnectionError as e:
            text = str(e)
            if "Connection refused" in text or "Errno 111" in text:
                out("refused")
            else:
                out("fail " + type(e).__name__ + ": " + text.replace("\n", " ")[:120])
        except Exception as e:  # every other error the library surfaces
            out("fail " + type(e).__name__ + ": " + str(e).replace("\n", " ")[:120])


for _ in range(workers):
    threading.Thread(target=worker, daemon=True).start()
threading.Event().wait()
