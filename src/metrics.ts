import client from 'prom-client';

/**
 * The process's own metrics (prom-client), what this process counted since it started; GET /metrics
 * (http/metrics.ts) adds the database's figures, read when scraped. Each process of a deployment
 * is scraped on its own, and Prometheus sums the counters.
 */
export const processMetrics = new client.Registry();
client.collectDefaultMetrics({ register: processMetrics, prefix: 'admit_' });

export const httpRequests = new client.Counter({
  name: 'admit_http_requests_total',
  help: 'HTTP requests answered, by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [processMetrics],
});

export const httpLatency = new client.Histogram({
  name: 'admit_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by method and route',
  labelNames: ['method', 'route'] as const,
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [processMetrics],
});

export const redemptionAttempts = new client.Counter({
  name: 'admit_redemptions_total',
  help: 'Redemption attempts of an existing or unknown code, by outcome: redeemed, or the reason it was refused',
  labelNames: ['outcome'] as const,
  registers: [processMetrics],
});
