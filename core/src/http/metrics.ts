import { Registry, collectDefaultMetrics, Histogram, Counter } from 'prom-client';

/** Prometheus metrics of one panel process (own registry, so several panels in one test process don't clash). */
export class PanelMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly loginAttempts: Counter<'outcome'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mpanel_' });
    this.httpDuration = new Histogram({
      name: 'mpanel_http_request_duration_seconds',
      help: 'HTTP request duration by route template',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.loginAttempts = new Counter({
      name: 'mpanel_login_attempts_total',
      help: 'Password login attempts by outcome',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
  }
}
