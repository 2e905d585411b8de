/**
 * The plumbing every loopback stand-in (Jenkins, SSM, CloudWatch, the SQS proxy) shares:
 * listen on 127.0.0.1 only, and close for real, keep-alive connections included, so a
 * test's "down" really refuses and jest sees no open handles.
 */
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface LoopbackServer {
  /** Listens on 127.0.0.1 (port 0 = any free port) and resolves with the port. */
  listen(port?: number): Promise<number>;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

export function loopback(server: Server): LoopbackServer {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    listen: (port = 0) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
