#!/usr/bin/python3
"""A minimal Neutron API stand-in (NOT Neutron), used only with OS_RIG_NEUTRON=stub.

Nova (Zed) talks to Neutron even for servers booted with networks "none" (ports and security groups of a server
when it is shown or listed). Here every collection GET answers an empty list, item GETs answer 404, writes 404,
deletes 204. It listens on 127.0.0.1:9696."""
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def _send(self, code, body=None):
        data = b'' if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split('?', 1)[0].rstrip('/')
        if path in ('', '/'):
            return self._send(200, {'versions': [{'id': 'v2.0', 'status': 'CURRENT', 'links': [
                {'rel': 'self', 'href': 'http://127.0.0.1:9696/v2.0/'}]}]})
        m = re.match(r'^/v2\.0/([a-z_-]+)(?:\.json)?$', path)
        if m:
            return self._send(200, {m.group(1).replace('-', '_'): []})
        if path.startswith('/v2.0/quotas'):
            return self._send(200, {'quota': {}})
        return self._send(404, {'NeutronError': {'type': 'NotFound', 'message': 'stub', 'detail': ''}})

    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        return self._send(404, {'NeutronError': {'type': 'NotFound', 'message': 'stub: no writes', 'detail': ''}})

    do_PUT = do_POST

    def do_DELETE(self):
        return self._send(204)

    def log_message(self, fmt, *args):
        sys.stderr.write('%s %s\n' % (self.log_date_time_string(), fmt % args))
        sys.stderr.flush()


ThreadingHTTPServer(('127.0.0.1', 9696), Handler).serve_forever()
