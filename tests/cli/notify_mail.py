"""Reads messages back with Python's email package, the test oracle for
notify: an mbox file, a Maildir, or a directory of .eml files. Prints one
block per message, one decoded field a line:
  from_name, from_addr, to_name, to_addr, subject, date, message_id,
  content_type, charset, auto_submitted, header_names (comma list),
  attachment (filename content-type sha256-of-content), then body lines
  prefixed with 'body: ', then a line '--'.
Usage: notify_mail.py mbox FILE | maildir DIR | dir DIR"""
import email, email.policy, hashlib, mailbox, os, sys


def show(raw):
    m = email.message_from_bytes(raw, policy=email.policy.default)
    for h, key in (('From', 'from'), ('To', 'to')):
        addrs = m[h].addresses if m[h] is not None else ()
        a = addrs[0] if addrs else None
        print('%s_name: %s' % (key, a.display_name if a else ''))
        print('%s_addr: %s' % (key, a.addr_spec if a else ''))
        print('%s_count: %d' % (key, len(addrs)))
    print('subject: %s' % m['Subject'])
    print('date: %s' % m['Date'])
    print('message_id: %s' % m['Message-ID'])
    print('auto_submitted: %s' % m['Auto-Submitted'])
    print('header_names: %s' % ','.join(k.lower() for k in m.keys()))
    body = m.get_body(preferencelist=('plain',))
    print('content_type: %s' % body.get_content_type())
    print('charset: %s' % body.get_content_charset())
    for part in m.iter_attachments():
        data = part.get_payload(decode=True)
        print('attachment: %s %s %s' % (part.get_filename(), part.get_content_type(),
                                        hashlib.sha256(data).hexdigest()))
    for line in body.get_content().splitlines():
        print('body: ' + line)
    print('--')


def main():
    kind, path = sys.argv[1], sys.argv[2]
    if kind == 'mbox':
        if path in ('-', '/dev/stdin'):
            import tempfile
            tmp = tempfile.NamedTemporaryFile(suffix='.mbox')
            tmp.write(sys.stdin.buffer.read())
            tmp.flush()
            path = tmp.name
        for msg in mailbox.mbox(path, create=False):
            show(msg.as_bytes())
    elif kind == 'maildir':
        for key in sorted(os.listdir(os.path.join(path, 'new'))):
            with open(os.path.join(path, 'new', key), 'rb') as f:
                show(f.read())
    else:
        for key in sorted(os.listdir(path)):
            if key.endswith('.eml'):
                with open(os.path.join(path, key), 'rb') as f:
                    show(f.read())


main()
