#!/usr/bin/env python
"""A TCP proxy that adds a fixed one-way delay, to measure what a round trip to the database costs.

    .venv/bin/python scripts/latency_proxy.py --listen 15432 --to 127.0.0.1:5432 --delay-ms 0.5

On loopback a query's round trip costs about 0.1 ms, so work that saves round trips (a page read
with its rows in one statement, rows.listed) shows no gain here; a database across a network
adds its latency to every one. Point DATABASE_URL at the proxy's port to measure that
(docs/performance.md). Each chunk is forwarded `--delay-ms` after it arrived, in order, in both
directions: latency without a bandwidth limit. For measurements only; never in front of a service.
"""

import argparse
import asyncio
import time


async def _pipe(reader, writer, delay):
    queue = asyncio.Queue()

    async def read():
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay, data))
        queue.put_nowait((None, b""))

    async def write():
        while True:
            due, data = await queue.get()
            if due is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    await asyncio.gather(read(), write())


async def main(listen, host, port, delay):
    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            _pipe(client_reader, server_writer, delay),
            _pipe(server_reader, client_writer, delay),
            return_exceptions=True,
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=int, required=True, help="Port to listen on (127.0.0.1).")
    parser.add_argument("--to", required=True, help="host:port to forward to.")
    parser.add_argument("--delay-ms", type=float, default=0.5, help="One-way delay in milliseconds.")
    args = parser.parse_args()
    target_host, _, target_port = args.to.rpartition(":")
    asyncio.run(main(args.listen, target_host, int(target_port), args.delay_ms / 1000))
