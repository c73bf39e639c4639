#!/usr/bin/env python3
"""A small twin of HashiCorp Vault's Transit engine, for `keyflow run --sandbox` and the tests.

It serves the part of Vault's HTTP API the vault-transit plugin calls — keys (create, read, rotate),
encrypt, decrypt — on a free loopback port, checks the token, and answers anything else with Vault's
error shape and an `UnknownOperation` message. It prints one line, the connection settings that point at
it, then serves until stopped. Ciphertexts are `vault:v<version>:<base64>` and are authenticated (a
ciphertext of another key, version, context or a tampered one does not decrypt), but the cipher is a
keyed SHA-256 stream with an HMAC tag, not Vault's AES-GCM: it is a twin for rehearsals, not a vault.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "sandbox-vault-token"
MOUNT = "transit"
KEY_TYPES = ("aes128-gcm96", "aes256-gcm96", "chacha20-poly1305")

keys = {}
lock = threading.Lock()


def stream(key, nonce, length):
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(key + nonce + counter.to_bytes(8, "big")).digest()
        counter += 1
    return out[:length]


def seal(material, plaintext, context):
    nonce = os.urandom(12)
    body = bytes(a ^ b for a, b in zip(plaintext, stream(material, nonce, len(plaintext))))
    tag = hmac.new(material, nonce + body + context, hashlib.sha256).digest()[:16]
    return nonce + body + tag


def unseal(material, sealed, context):
    if len(sealed) < 28:
        return None
    nonce, body, tag = sealed[:12], sealed[12:-16], sealed[-16:]
    if not hmac.compare_digest(tag, hmac.new(material, nonce + body + context, hashlib.sha256).digest()[:16]):
        return None
    return bytes(a ^ b for a, b in zip(body, stream(material, nonce, len(body))))


def new_key(name, kind, body):
    return {
        "name": name, "type": kind, "derived": bool(body.get("derived")),
        "exportable": bool(body.get("exportable")),
        "versions": [{"material": os.urandom(32), "created": int(time.time())}],
    }


def info(key):
    return {
        "name": key["name"], "type": key["type"], "latest_version": len(key["versions"]),
        "min_decryption_version": 1, "min_encryption_version": 0, "deletion_allowed": False,
        "exportable": key["exportable"], "derived": key["derived"],
        "keys": {str(i + 1): v["created"] for i, v in enumerate(key["versions"])},
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, message):
        self.reply(status, {"errors": [message]})

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        try:
            return json.loads(self.rfile.read(length))
        except ValueError:
            return None

    def route(self, method):
        if self.headers.get("X-Vault-Token") != TOKEN:
            return self.error(403, "permission denied")
        body = self.body()
        if body is None:
            return self.error(400, "failed to parse JSON input")
        prefix = f"/v1/{MOUNT}/"
        path = self.path.split("?")[0]
        parts = path[len(prefix):].split("/") if path.startswith(prefix) else []
        with lock:
            if len(parts) == 2 and parts[0] == "keys" and method == "POST":
                return self.create(parts[1], body)
            if len(parts) == 2 and parts[0] == "keys" and method == "GET":
                key = keys.get(parts[1])
                return self.reply(200, {"data": info(key)}) if key else self.error(404, "")
            if len(parts) == 3 and parts[0] == "keys" and parts[2] == "rotate" and method == "POST":
                key = keys.get(parts[1])
                if not key:
                    return self.error(400, "encryption key not found")
                key["versions"].append({"material": os.urandom(32), "created": int(time.time())})
                return self.reply(200, {"data": info(key)})
            if len(parts) == 2 and parts[0] == "encrypt" and method == "POST":
                return self.encrypt(parts[1], body)
            if len(parts) == 2 and parts[0] == "decrypt" and method == "POST":
                return self.decrypt(parts[1], body)
        self.error(404, f"UnknownOperation: the Vault twin does not implement {method} {path}")

    def create(self, name, body):
        kind = body.get("type", "aes256-gcm96")
        if kind not in KEY_TYPES:
            return self.error(400, f"unknown key type {kind}")
        if name not in keys:
            keys[name] = new_key(name, kind, body)
        self.reply(204)

    def context(self, key, body):
        if not key["derived"]:
            return b""
        try:
            return base64.b64decode(body.get("context", ""), validate=True)
        except ValueError:
            return None

    def encrypt(self, name, body):
        key = keys.get(name)
        if key is None:  # Vault creates the key on first encrypt (upsert); the twin does too
            key = keys[name] = new_key(name, "aes256-gcm96", {})
        try:
            plaintext = base64.b64decode(body.get("plaintext", ""), validate=True)
        except ValueError:
            return self.error(400, "failed to base64-decode plaintext")
        context = self.context(key, body)
        if context is None or (key["derived"] and not context):
            return self.error(400, "missing 'context' for key derivation; the key was created using a derived key")
        version = len(key["versions"])
        sealed = seal(key["versions"][-1]["material"], plaintext, context)
        text = f"vault:v{version}:" + base64.b64encode(sealed).decode()
        self.reply(200, {"data": {"ciphertext": text, "key_version": version}})

    def decrypt(self, name, body):
        key = keys.get(name)
        if key is None:
            return self.error(400, "encryption key not found")
        text = body.get("ciphertext", "")
        parts = text.split(":")
        if len(parts) != 3 or parts[0] != "vault" or not parts[1].startswith("v") or not parts[1][1:].isdigit():
            return self.error(400, "invalid ciphertext: no prefix")
        version = int(parts[1][1:])
        if not 1 <= version <= len(key["versions"]):
            return self.error(400, "invalid ciphertext: invalid key version")
        try:
            sealed = base64.b64decode(parts[2], validate=True)
        except ValueError:
            return self.error(400, "invalid ciphertext: could not decode")
        context = self.context(key, body)
        plaintext = None if context is None else unseal(key["versions"][version - 1]["material"], sealed, context)
        if plaintext is None:
            return self.error(400, "cipher: message authentication failed")
        self.reply(200, {"data": {"plaintext": base64.b64encode(plaintext).decode()}})

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    address = f"http://127.0.0.1:{server.server_address[1]}"
    print(json.dumps({"address": address, "token": TOKEN}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
