import net from 'node:net';

/**
 * A TCP proxy between a service and a server, for making the server look slow: every chunk the server
 * sends is held for `replyLatencyMs` before it is passed on (in order), and `hold()` stops forwarding in
 * both directions (nothing is lost: the sockets stop reading, the kernel keeps the bytes) until
 * `release()`. Commands still reach the server at once under latency, as with a slow network or a server
 * that answers late.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private held = false;
  replyLatencyMs = 0;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.server = net.createServer((client) => this.pipe(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Stops forwarding in both directions until release(). */
  hold(): void {
    this.held = true;
    for (const socket of this.sockets) socket.pause();
  }

  release(): void {
    this.held = false;
    for (const socket of this.sockets) socket.resume();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      if (this.held) socket.pause();
    }
    client.on('data', (chunk) => upstream.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    // Replies leave in arrival order, each no earlier than its arrival plus the latency at arrival.
    const replies: { due: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      timer = undefined;
      while (replies.length > 0 && replies[0]!.due <= Date.now()) client.write(replies.shift()!.chunk);
      if (replies.length > 0) timer = setTimeout(flush, replies[0]!.due - Date.now());
    };
    upstream.on('data', (chunk) => {
      replies.push({ due: Date.now() + this.replyLatencyMs, chunk });
      if (timer === undefined) flush();
    });
  }
}
