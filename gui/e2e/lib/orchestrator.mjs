// A simulated orchestrator speaking the controller's WebSocket contract:
// register with its credential, i_am_alive every interval, usage_report,
// and message_ack for every forwarded message. It records every frame it
// receives so a test can check what the controller pushed.
import WebSocket from 'ws';

export class SimOrchestrator {
  constructor({ wsUrl, orchestratorId, organizationId, token, heartbeatMs = 1000 }) {
    Object.assign(this, { wsUrl, orchestratorId, organizationId, token, heartbeatMs });
    this.frames = [];
    this.waiters = [];
    this.timer = null;
    this.socket = null;
  }

  async connect() {
    this.socket = new WebSocket(this.wsUrl);
    await new Promise((ok, fail) => {
      this.socket.once('open', ok);
      this.socket.once('error', fail);
    });
    this.socket.on('message', (data) => this.onFrame(JSON.parse(data.toString())));
    this.send({
      type: 'register',
      orchestrator_id: this.orchestratorId,
      organization_id: this.organizationId,
      token: this.token,
      metadata: { version: 'sim-1.0', region: 'test' },
    });
    await this.waitFor((f) => f.type === 'provisioning', 5000);
    this.beat();
    this.timer = setInterval(() => this.beat(), this.heartbeatMs);
  }

  onFrame(f) {
    if (f.type === 'heartbeat_ack') this.lastAckAt = Date.now(); // for a failing freshness check
    this.frames.push(f);
    // Forwarded recommendations carry a message_id; confirm receipt.
    if (f.message_id && f.type !== 'error') {
      this.send({ type: 'message_ack', orchestrator_id: this.orchestratorId, message_id: f.message_id });
    }
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(f)) return true;
      clearTimeout(w.timer);
      w.ok(f);
      return false;
    });
  }

  beat() {
    this.send({ type: 'i_am_alive', orchestrator_id: this.orchestratorId });
    this.lastBeatAt = Date.now(); // what a failing freshness check reports
  }

  send(frame) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  usage({ model, requests, inputTokens, outputTokens, costUsd, period }) {
    this.send({
      type: 'usage_report',
      orchestrator_id: this.orchestratorId,
      period,
      model,
      requests,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      cost_usd: costUsd,
    });
  }

  /** Resolves with the first frame (already received or coming) that matches. */
  waitFor(match, timeoutMs = 10000) {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((ok, fail) => {
      const w = { match, ok };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        fail(new Error(`${this.orchestratorId}: no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  close() {
    clearInterval(this.timer);
    this.socket?.close();
  }
}
