"""A tiny app for the health-check end-to-end tests (standard library only).

    health_server.py http PORT READY_FILE   GET /health answers 200 "ok" once READY_FILE exists, 503 before
    health_server.py tcp PORT STOP_FILE     accepts on PORT until STOP_FILE appears; then removes it, closes
                                            the listener and keeps running (alive, but no longer serving)
"""
import http.server
import os
import socket
import sys
import time


def serve_http(port, ready_file):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ready = os.path.exists(ready_file)
            body = b"ok" if ready else b"starting"
            self.send_response(200 if ready and self.path == "/health" else 503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on {port}", flush=True)
    server.serve_forever()


def serve_tcp(port, stop_file):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    listener.settimeout(0.05)
    print(f"pid {os.getpid()} listening on {port}", flush=True)
    while not os.path.exists(stop_file):
        try:
            connection, _ = listener.accept()
            connection.close()
        except socket.timeout:
            pass
    os.remove(stop_file)
    listener.close()
    print(f"pid {os.getpid()} stopped accepting", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    mode, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "http":
        serve_http(port, path)
    else:
        serve_tcp(port, path)
