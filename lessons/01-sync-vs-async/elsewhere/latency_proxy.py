#!/usr/bin/env python3
"""A TCP proxy that adds network latency on 127.0.0.1, for machines where `tc netem` is missing.

    python3 latency_proxy.py LISTEN_PORT SERVER_PORT RTT_MS

Each new connection waits one round trip before its first byte goes on (TCP's handshake), then
every chunk waits half a round trip each way. A reused connection therefore costs one round trip
a request, a new one two: what real latency does and a sleep inside the server does not.
"""
import asyncio
import sys


async def relay(reader, writer, delay):
    loop = asyncio.get_running_loop()
    try:
        while data := await reader.read(65536):
            loop.call_later(delay, writer.write, data)
    except ConnectionError:
        pass
    loop.call_later(delay, writer.close)


async def serve(client_r, client_w, server_port, rtt):
    await asyncio.sleep(rtt)  # SYN, SYN-ACK: nothing moves before the handshake is done
    try:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", server_port)
    except OSError:
        client_w.close()
        return
    await asyncio.gather(relay(client_r, server_w, rtt / 2), relay(server_r, client_w, rtt / 2))


async def main():
    listen_port, server_port, rtt = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000
    proxy = await asyncio.start_server(lambda r, w: serve(r, w, server_port, rtt), "127.0.0.1",
                                       listen_port, backlog=1024)
    async with proxy:
        await proxy.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
