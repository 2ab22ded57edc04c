import { describe, expect, it } from 'vitest';
import { listenHttp } from '../../src/node/http-server.js';

describe('HTTP listener', () => {
  it('binds a free port, and names a taken one with NODE_HTTP_PORT', async () => {
    const http = await listenHttp((_req, res) => res.end('ok'), '127.0.0.1', 0);
    expect(http.port).toBeGreaterThan(0);
    expect(await (await fetch(`http://127.0.0.1:${http.port}/`)).text()).toBe('ok');
    await expect(listenHttp(() => undefined, '127.0.0.1', http.port)).rejects.toMatchObject({ code: 'NODE_HTTP_PORT', message: expect.stringContaining('in use') });
    await http.close();
  });
});
