/**
 * The TF Serving stand-in follows TF Serving's REST rules (../shared/reference/tf-serving-and-savedmodel.md §1):
 * what the v2 tests prove is only as good as this.
 */
import request from 'supertest';
import { startStandIn } from './support/tf-serving/stand-in.js';
import { type TfServingProtocolServer, formatFloat } from './support/tf-serving/tf-serving-protocol.server.js';

describe('TF Serving protocol stand-in', () => {
  let server: TfServingProtocolServer;
  beforeAll(async () => {
    server = await startStandIn();
  });
  afterAll(async () => {
    await server.stop();
  });

  const ids = { input_ids: [101, 7, 102], attention_mask: [1, 1, 1], token_type_ids: [0, 0, 0] };

  it('should report model status with string versions and enum names', async () => {
    const res = await request(server.url).get('/v1/models/sentiment_analysis').expect(200);
    expect(res.body).toEqual({
      model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }],
    });
    expect(res.headers['content-type']).toBe('application/json');
  });

  it("should answer unknown models and versions with TF Serving's 404 texts", async () => {
    expect((await request(server.url).get('/v1/models/nope').expect(404)).body).toEqual({
      error: 'Could not find any versions of model nope',
    });
    expect((await request(server.url).get('/v1/models/sentiment_analysis/versions/9').expect(404)).body).toEqual({
      error: 'Could not find version 9 of model sentiment_analysis',
    });
    expect(
      (
        await request(server.url)
          .post('/v1/models/nope:predict')
          .send({ instances: [ids] })
          .expect(404)
      ).body,
    ).toEqual({
      error: 'Servable not found for request: Latest(nope)',
    });
  });

  it('should reject malformed paths with 400, and paths outside /v1/ with a non-JSON 404', async () => {
    expect((await request(server.url).get('/v1/models').expect(400)).body).toEqual({
      error: 'Missing model name in request.',
    });
    expect((await request(server.url).get('/v1/models/sentiment_analysis:predict').expect(400)).body).toEqual({
      error: 'Malformed request: GET /v1/models/sentiment_analysis:predict',
    });
    expect((await request(server.url).post('/v1/models/m/version/1:predict').expect(400)).body.error).toMatch(
      /^Malformed request: POST/,
    );
    const outside = await request(server.url).get('/health').expect(404);
    expect(outside.headers['content-type']).not.toMatch(/json/);
  });

  it('should serve the signature in the metadata, with the resolved version', async () => {
    const res = await request(server.url).get('/v1/models/sentiment_analysis/metadata').expect(200);
    expect(res.body.model_spec).toEqual({ name: 'sentiment_analysis', signature_name: '', version: '1' });
    const signature = res.body.metadata.signature_def.signature_def.serving_default as {
      inputs: Record<string, { dtype: string; name: string }>;
      outputs: Record<string, { tensor_shape: { dim: { size: string }[] } }>;
    };
    expect(Object.keys(signature.inputs).sort()).toEqual(['attention_mask', 'input_ids', 'token_type_ids']);
    expect(signature.inputs.input_ids).toMatchObject({ dtype: 'DT_INT64', name: 'input_ids:0' });
    expect(signature.outputs.logits!.tensor_shape.dim.map((d) => d.size)).toEqual(['-1', '2']);
  });

  it('should answer row requests with predictions and columnar requests with outputs', async () => {
    const row = await request(server.url)
      .post('/v1/models/sentiment_analysis:predict')
      .send({ instances: [ids, ids] })
      .expect(200);
    expect(row.body.predictions).toHaveLength(2);
    expect(row.body.predictions[0]).toHaveLength(2);
    const columnar = await request(server.url)
      .post('/v1/models/sentiment_analysis/versions/1:predict')
      .send({
        inputs: {
          input_ids: [ids.input_ids],
          attention_mask: [ids.attention_mask],
          token_type_ids: [ids.token_type_ids],
        },
      })
      .expect(200);
    expect(columnar.body.outputs).toEqual([row.body.predictions[0]]);
  });

  it.each([
    ['both formats', { instances: [ids], inputs: {} }, /expecting only one of 'inputs' or 'instances' keys to exist/],
    ['neither format', { signature_name: 'serving_default' }, /^Missing 'inputs' or 'instances' key$/],
    [
      'unknown signature',
      { signature_name: 'nope', instances: [ids] },
      /^Serving signature name: "nope" not found in signature def$/,
    ],
    ['non-string signature', { signature_name: 3, instances: [ids] }, /'signature_name' key must be a string value/],
    [
      'keys differ',
      { instances: [{ input_ids: [1] }] },
      /keys must be equal to: attention_mask,input_ids,token_type_ids/,
    ],
    ['plain list for several inputs', { instances: [[101, 102]] }, /instances is a plain list/],
    ['ragged rows', { instances: [ids, { ...ids, input_ids: [101, 102] }] }, /Expecting shape \[3\] but got: \[2\]/],
    [
      'float id',
      { instances: [{ ...ids, input_ids: [101, 7.5, 102] }] },
      /JSON Value: 7.5 Type: Number is not of expected type: int64/,
    ],
    [
      'missing columnar input',
      { inputs: { input_ids: [[101]] } },
      /^Missing named input: attention_mask in 'inputs' object\.$/,
    ],
  ])("should refuse %s with 400 and TF Serving's message", async (_, body, message) => {
    const res = await request(server.url).post('/v1/models/sentiment_analysis:predict').send(body).expect(400);
    expect(res.body.error).toMatch(message);
  });

  it('should refuse an empty or unparsable body', async () => {
    const empty = await request(server.url)
      .post('/v1/models/sentiment_analysis:predict')
      .set('Content-Type', 'application/json')
      .send('')
      .expect(400);
    expect(empty.body.error).toBe('JSON Parse error: The document is empty');
    const bad = await request(server.url)
      .post('/v1/models/sentiment_analysis:predict')
      .set('Content-Type', 'application/json')
      .send('{"x": ')
      .expect(400);
    expect(bad.body.error).toMatch(/^JSON Parse error: /);
  });

  it('should write floats the way TF Serving does', () => {
    expect(formatFloat(3)).toBe('3.0');
    expect(formatFloat(0.5)).toBe('0.5');
    expect(formatFloat(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat(Number.NaN)).toBe('NaN');
    expect(formatFloat(-Infinity)).toBe('-Infinity');
  });
});
