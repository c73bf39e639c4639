#!/usr/bin/env python3
"""A keyflow connector plugin for HashiCorp Vault's Transit secrets engine (standard library only).

It speaks keyflow-plugin/1 (docs/plugins.md): JSON-RPC 2.0, one message per line on stdin/stdout; its log
goes to stderr. Blocks: create-key, read-key, encrypt, decrypt, rotate-key. A connection names Vault's
`address`, a `token` (secret: `{ env: VAULT_TOKEN }`), the engine's `mount` (default `transit`) and an
optional Enterprise `namespace`. Under `keyflow run --sandbox` its twin (vault_twin.py) stands in for
Vault.
"""

import base64
import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

PROTOCOL = "keyflow-plugin/1"
NAME = "vault-transit"
VERSION = "0.1.0"
CONNECTOR = "vault-transit"

# --- the description: what `keyflow plugin add` records --------------------------------------------------

KEY_NAME = {
    "type": "string",
    "description": "The key's name in the Transit engine.",
    "pattern": "^[A-Za-z0-9_.-]+$",
}
CONTEXT = {
    "type": "string",
    "description": "Base64 key derivation context (for keys created with `derived: true`).",
}
KEY_INFO = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "The key's name."},
        "type": {"type": "string", "description": "The key type (`aes256-gcm96`…)."},
        "latest_version": {"type": "integer", "description": "The newest version: encryption uses it."},
        "min_decryption_version": {"type": "integer", "description": "The oldest version that still decrypts."},
        "deletion_allowed": {"type": "boolean", "description": "Whether the key may be deleted."},
        "exportable": {"type": "boolean", "description": "Whether the key may be exported."},
        "derived": {"type": "boolean", "description": "Whether a context derives a key per use."},
        "keys": {
            "type": "object",
            "description": "Each version's creation time (Unix seconds), by version number.",
            "additionalProperties": {"type": "integer"},
        },
    },
    "required": ["name", "type", "latest_version"],
}
KEY_EXAMPLE = {
    "name": "tenant-42",
    "type": "aes256-gcm96",
    "latest_version": 1,
    "min_decryption_version": 1,
    "deletion_allowed": False,
    "exportable": False,
    "derived": False,
    "keys": {"1": 1764633600},
}


def block(op, title, description, effect, recovery, properties, required, output, example, secret=(), takes_secret=()):
    return {
        "id": f"{CONNECTOR}.{op}",
        "title": title,
        "connector": CONNECTOR,
        "description": description,
        "effect": effect,
        "recovery": recovery,
        "secret_outputs": list(secret),
        "secret_inputs": list(takes_secret),
        "input": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
        "output": output,
        "example_output": example,
    }


BLOCKS = [
    block(
        "create-key", "Create Key",
        "Creates a named encryption key (creating one that exists changes nothing).",
        "create", "reapply",
        {
            "name": KEY_NAME,
            "type": {
                "type": "string",
                "enum": ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"],
                "description": "The key type (default `aes256-gcm96`).",
            },
            "derived": {"type": "boolean", "description": "Derive a key per context."},
            "exportable": {"type": "boolean", "description": "Allow exporting the key."},
        },
        ["name"], KEY_INFO, KEY_EXAMPLE,
    ),
    block(
        "read-key", "Read Key", "Reads a key's versions and settings.", "read", "repeat",
        {"name": KEY_NAME}, ["name"], KEY_INFO, KEY_EXAMPLE,
    ),
    block(
        "encrypt", "Encrypt Data",
        "Encrypts base64 plaintext with the key's latest version.", "read", "repeat",
        {
            "name": KEY_NAME,
            "plaintext": {"type": "string", "description": "Base64 plaintext."},
            "context": CONTEXT,
        },
        ["name", "plaintext"],
        {
            "type": "object",
            "properties": {
                "ciphertext": {"type": "string", "description": "`vault:v<version>:<base64>`."},
                "key_version": {"type": "integer", "description": "The version that encrypted it."},
            },
            "required": ["ciphertext"],
        },
        {"ciphertext": "vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w==", "key_version": 1},
        takes_secret=["plaintext"],
    ),
    block(
        "decrypt", "Decrypt Data",
        "Decrypts a Transit ciphertext; the plaintext is a secret (redacted in reports).", "read", "repeat",
        {
            "name": KEY_NAME,
            "ciphertext": {"type": "string", "description": "`vault:v<version>:<base64>`."},
            "context": CONTEXT,
        },
        ["name", "ciphertext"],
        {
            "type": "object",
            "properties": {"plaintext": {"type": "string", "description": "Base64 plaintext."}},
            "required": ["plaintext"],
        },
        {"plaintext": "aGVsbG8gd29ybGQ="},
        secret=["plaintext"],
    ),
    block(
        "rotate-key", "Rotate Key",
        "Adds a new version of the key; new encryptions use it, old ciphertexts still decrypt.",
        "update", "at_least_once",
        {"name": KEY_NAME}, ["name"], KEY_INFO, dict(KEY_EXAMPLE, latest_version=2, keys={"1": 1764633600, "2": 1764720000}),
    ),
]

DESCRIPTION = {
    "connector": {
        "id": CONNECTOR,
        "title": "HashiCorp Vault Transit",
        "description": "Vault's Transit secrets engine (encryption as a service) at `address`, with a Vault token.",
        "settings": {
            "type": "object",
            "properties": {
                "address": {"type": "string", "description": "Vault's address: `https://vault.example.com:8200`."},
                "token": {"type": "string", "description": "A Vault token (secret: `{ env: VAULT_TOKEN }`)."},
                "mount": {"type": "string", "description": "Where the Transit engine is mounted (default `transit`)."},
                "namespace": {"type": "string", "description": "A Vault Enterprise namespace."},
            },
            "required": ["address", "token"],
            "additionalProperties": False,
        },
        "secret_settings": ["token"],
        "twin": {"command": ["python3", "vault_twin.py"]},
    },
    "blocks": BLOCKS,
}

# --- calls ------------------------------------------------------------------------------------------------


class Failure(Exception):
    def __init__(self, code, message, retryable=False, retry_after=None):
        super().__init__(message)
        self.code, self.message, self.retryable, self.retry_after = code, message, retryable, retry_after


def vault(settings, method, path, body=None):
    """One request to Vault's HTTP API; Vault's `errors` become a Failure with its status's meaning."""
    address = settings["address"].rstrip("/")
    mount = settings.get("mount", "transit").strip("/")
    url = f"{address}/v1/{mount}/{path}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("X-Vault-Token", settings["token"])
    request.add_header("Content-Type", "application/json")
    if settings.get("namespace"):
        request.add_header("X-Vault-Namespace", settings["namespace"])
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode() or "{}"
            return json.loads(text)
    except urllib.error.HTTPError as e:
        try:
            errors = json.loads(e.read().decode() or "{}").get("errors") or []
        except ValueError:
            errors = []
        message = "; ".join(errors) or f"HTTP {e.code}"
        retry_after = e.headers.get("Retry-After")
        code = {400: "InvalidRequest", 403: "PermissionDenied", 404: "NotFound", 429: "Throttled",
                503: "VaultSealed"}.get(e.code, f"Http{e.code}")
        if message.startswith("UnknownOperation"):
            code = "UnknownOperation"
        raise Failure(code, message, retryable=e.code in (429, 500, 502, 503, 504),
                      retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        raise Failure("Unreachable", f"cannot reach Vault at {address}: {e}", retryable=True)


def key_info(settings, name):
    data = vault(settings, "GET", f"keys/{urllib.parse.quote(name)}")["data"]
    keys = {str(v): int(t) if isinstance(t, (int, float)) else 0 for v, t in (data.get("keys") or {}).items()}
    out = {k: data[k] for k in ("name", "type", "latest_version", "min_decryption_version",
                                "deletion_allowed", "exportable", "derived") if k in data}
    out["keys"] = keys
    return out


def create_key(settings, i):
    body = {k: i[k] for k in ("type", "derived", "exportable") if k in i}
    vault(settings, "POST", f"keys/{urllib.parse.quote(i['name'])}", body)
    return key_info(settings, i["name"])


def encrypt(settings, i):
    try:
        base64.b64decode(i["plaintext"], validate=True)
    except ValueError:
        raise Failure("InvalidInput", "`plaintext` is not base64")
    body = {"plaintext": i["plaintext"]}
    if "context" in i:
        body["context"] = i["context"]
    data = vault(settings, "POST", f"encrypt/{urllib.parse.quote(i['name'])}", body)["data"]
    return {"ciphertext": data["ciphertext"], "key_version": data.get("key_version", 0)}


def decrypt(settings, i):
    body = {"ciphertext": i["ciphertext"]}
    if "context" in i:
        body["context"] = i["context"]
    data = vault(settings, "POST", f"decrypt/{urllib.parse.quote(i['name'])}", body)["data"]
    return {"plaintext": data["plaintext"]}


def rotate_key(settings, i):
    vault(settings, "POST", f"keys/{urllib.parse.quote(i['name'])}/rotate", {})
    return key_info(settings, i["name"])


CALLS = {
    f"{CONNECTOR}.create-key": create_key,
    f"{CONNECTOR}.read-key": lambda s, i: key_info(s, i["name"]),
    f"{CONNECTOR}.encrypt": encrypt,
    f"{CONNECTOR}.decrypt": decrypt,
    f"{CONNECTOR}.rotate-key": rotate_key,
}

# --- the protocol -----------------------------------------------------------------------------------------

out_lock = threading.Lock()


def send(message):
    line = json.dumps(message, separators=(",", ":")) + "\n"
    with out_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def answer(id, result=None, error=None):
    message = {"jsonrpc": "2.0", "id": id}
    if error is None:
        message["result"] = result
    else:
        message["error"] = error
    send(message)


def call(id, params):
    try:
        run = CALLS.get(params.get("block"))
        if run is None:
            answer(id, error={"code": -32601, "message": f"no block `{params.get('block')}` in {NAME}"})
            return
        output = run(params.get("settings") or {}, params.get("input") or {})
        answer(id, {"output": output})
    except Failure as f:
        data = {"code": f.code, "retryable": f.retryable}
        if f.retry_after is not None:
            data["retry_after"] = f.retry_after
        answer(id, error={"code": -32000, "message": f.message, "data": data})
    except Exception as e:  # a bug here is the plugin's, said as such, not a crash of the run
        answer(id, error={"code": -32000, "message": f"{NAME}: {type(e).__name__}: {e}",
                          "data": {"code": "PluginError", "retryable": False}})


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError:
            print(f"{NAME}: not JSON: {line[:100]!r}", file=sys.stderr)
            continue
        method, id, params = message.get("method"), message.get("id"), message.get("params") or {}
        if method == "initialize":
            if PROTOCOL in params.get("protocols", []):
                answer(id, {"protocol": PROTOCOL, "name": NAME, "version": VERSION,
                            "capabilities": {"cancel": False}})
            else:
                answer(id, error={"code": -32602, "message": f"{NAME} speaks {PROTOCOL} only"})
        elif method == "describe":
            answer(id, DESCRIPTION)
        elif method == "call":
            threading.Thread(target=call, args=(id, params), daemon=True).start()
        elif method == "cancel":
            pass  # a Vault request is short; keyflow stops waiting for it, and its answer is ignored
        elif method == "shutdown":
            answer(id, None)
            return
        elif id is not None:
            answer(id, error={"code": -32601, "message": f"unknown method `{method}`"})


if __name__ == "__main__":
    main()
