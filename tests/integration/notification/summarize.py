#!/usr/bin/python3
"""Prints what reached the test's SMTP and HTTP sinks as tab-separated lines, so the C++ test
needs no JSON or MIME parser:

  channel  id  address  subject  text  status  signature_ok

channel is email, webhook, telegram or sms; id is the notification id the service sent
(X-Loyalty-Notification-Id, the SMS body's id; Telegram's sendMessage carries none, so its
id is empty); text has newlines as \\n.

usage: summarize.py SMTP_DIR HTTP_LOG
"""
import email
import email.header
import email.policy
import json
import os
import sys


def clean(s):
    return (s or "").replace("\\", "\\\\").replace("\t", " ").replace("\n", "\\n")


def out(*fields):
    print("\t".join(clean(str(f)) for f in fields))


def main():
    smtp_dir, http_log = sys.argv[1], sys.argv[2]
    if os.path.isdir(smtp_dir):
        for name in sorted(os.listdir(smtp_dir)):
            if not name.endswith(".eml"):
                continue
            with open(os.path.join(smtp_dir, name), "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            body = msg.get_body(preferencelist=("plain",)).get_content().rstrip("\n")
            out("email", msg["X-Loyalty-Notification-Id"], msg["To"], str(msg["Subject"]), body,
                250, "")
    if os.path.exists(http_log):
        with open(http_log, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                path = r["path"]
                try:
                    body = json.loads(r["body"])
                except ValueError:
                    body = {}
                if path.startswith("/bot"):
                    out("telegram", "", body.get("chat_id"), "", body.get("text"), r["status"], "")
                elif path == "/sms":
                    out("sms", body.get("id"), body.get("to"), "", body.get("text"), r["status"], "")
                else:
                    headers = {k.lower(): v for k, v in r["headers"].items()}
                    out("webhook", headers.get("x-loyalty-notification-id"), path,
                        body.get("subject"), body.get("text"), r["status"],
                        "1" if r["signature_ok"] else "0")


if __name__ == "__main__":
    main()
