import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/**
 * The domain says only what the duration bounds are; the HTTP answer still names the settings
 * behind them, word for word as before the wording moved to the edge (issue 11 point 6).
 */
describe('a duration outside the configured bounds over HTTP', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker({ JIT_MIN_DURATION: 'PT1M', JIT_MAX_DURATION: 'PT8H' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('should answer 400 naming the field and JIT_MIN_DURATION, JIT_MAX_DURATION', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).set('Content-Type', 'application/json').send(JSON.stringify(awsPolicyGrant({ duration: 'PT59S' })));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      type: 'urn:jit-broker:problem:validation',
      detail: 'duration: must be between 60s and 28800s (JIT_MIN_DURATION, JIT_MAX_DURATION)',
    });
    expect(res.body.errors).toStrictEqual([{ field: 'duration', message: 'must be between 60s and 28800s (JIT_MIN_DURATION, JIT_MAX_DURATION)' }]);
  });

  it('should document the duration in the OpenAPI description as before', async () => {
    const res = await t.http.get('/docs').set(t.as('alice'));
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).toContain('"description":"ISO-8601 duration, e.g. PT20M"');
  });
});
