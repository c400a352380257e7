"""aiosmtpd handler for the notify tests: keeps each message as a file in a
directory and refuses one address, the way a real server refuses an unknown
mailbox. Run as:
  /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c notify_smtpd.Handler OUTDIR REFUSED_ADDR
(with tests/cli on PYTHONPATH)."""
import os


class Handler:
    def __init__(self, outdir, refused):
        self.outdir = outdir
        self.refused = refused.lower()
        self.n = 0

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(*args)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() == self.refused:
            return '550 5.1.1 <%s>: Recipient address rejected' % address
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        name = os.path.join(self.outdir, '%04d.eml' % self.n)
        with open(name + '.tmp', 'wb') as f:
            f.write(envelope.original_content)
        with open(name + '.rcpt', 'w') as f:
            f.write('\n'.join(envelope.rcpt_tos) + '\n')
        os.rename(name + '.tmp', name)
        return '250 Message accepted'
