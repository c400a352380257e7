#!/usr/bin/python3
"""An SMTP server for the notify tests and benchmark (Debian's aiosmtpd),
which counts what a client does: connections, RSETs and messages. It binds
127.0.0.1 on a port the kernel chooses and writes the port to PORTFILE, so
concurrent runs never share one.

    smtp_count.py PORTFILE OUTDIR [--refuse ADDR] [--drop-after N] [--discard]

OUTDIR gets connections, rsets and messages (one number each, rewritten
as they change), and, unless --discard, each message as NNNN.eml with its
envelope recipients in NNNN.eml.rcpt. --refuse answers 550 for one
address; --drop-after N closes the connection after every Nth message
accepted, the way a server ends long sessions."""
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP

args = sys.argv[1:]
portfile, outdir = args[0], args[1]
opts = {'--refuse': None, '--drop-after': None}
discard = '--discard' in args
for k in opts:
    if k in args:
        opts[k] = args[args.index(k) + 1]
refused = (opts['--refuse'] or '').lower()
drop_after = int(opts['--drop-after'] or 0)
counts = {'connections': 0, 'rsets': 0, 'messages': 0}


def bump(name):
    counts[name] += 1
    with open(os.path.join(outdir, name + '.tmp'), 'w') as f:
        f.write('%d\n' % counts[name])
    os.rename(os.path.join(outdir, name + '.tmp'), os.path.join(outdir, name))


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() == refused:
            return '550 5.1.1 <%s>: Recipient address rejected' % address
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_RSET(self, server, session, envelope):
        bump('rsets')
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        bump('messages')
        n = counts['messages']
        if not discard:
            name = os.path.join(outdir, '%04d.eml' % n)
            with open(name + '.tmp', 'wb') as f:
                f.write(envelope.original_content)
            with open(name + '.rcpt', 'w') as f:
                f.write('\n'.join(envelope.rcpt_tos) + '\n')
            os.rename(name + '.tmp', name)
        if drop_after and n % drop_after == 0:
            asyncio.get_event_loop().call_soon(server.transport.close)
        return '250 Message accepted'


class Counting(SMTP):
    def connection_made(self, transport):
        bump('connections')
        super().connection_made(transport)


async def main():
    loop = asyncio.get_running_loop()
    handler = Handler()
    srv = await loop.create_server(lambda: Counting(handler, decode_data=False), '127.0.0.1', 0)
    port = srv.sockets[0].getsockname()[1]
    for name in counts:
        with open(os.path.join(outdir, name), 'w') as f:
            f.write('0\n')
    with open(portfile + '.tmp', 'w') as f:
        f.write('%d\n' % port)
    os.rename(portfile + '.tmp', portfile)
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
