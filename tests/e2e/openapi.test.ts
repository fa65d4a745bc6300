import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';

const DOCUMENT = path.join(__dirname, '..', '..', 'docs', 'openapi.yaml');

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
  requestBody?: { content: Record<string, { schema?: Record<string, unknown> }> };
}
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, Record<string, unknown>> };
};

function load(): Document {
  return parse(readFileSync(DOCUMENT, 'utf8')) as Document;
}

describe('docs/openapi.yaml', () => {
  it('when validated, then it is a valid OpenAPI 3.1 document', async () => {
    const api = (await SwaggerParser.validate(DOCUMENT)) as unknown as Document;
    expect(api.openapi).toBe('3.1.0');
  });

  it('when the document is broken, then the validator refuses it (the check is not a no-op)', async () => {
    const badScheme = load();
    badScheme.components.securitySchemes.writeKey = { type: 'apiKey', in: 'body', name: 'x-api-key' };
    await expect(SwaggerParser.validate(badScheme as never)).rejects.toThrow();
    const badRef = load();
    badRef.components.schemas.SingleEventRequest = { $ref: '#/components/schemas/NoSuchSchema' };
    await expect(SwaggerParser.validate(badRef as never)).rejects.toThrow();
  });

  it('when read, then every endpoint of the contract is documented with its status codes', async () => {
    const api = (await SwaggerParser.dereference(DOCUMENT)) as unknown as Document;
    const expected: Record<string, string[]> = {
      'POST /event': ['202', '400', '401', '413', '415', '429', '500', '503'],
      'POST /events': ['202', '400', '401', '413', '415', '429', '500', '503'],
      'POST /sites': ['201', '400', '401', '409', '413', '415', '500', '503'],
      'POST /sites/{site_id}/keys': ['200', '400', '401', '404', '413', '415', '500', '503'],
      'GET /sites': ['200', '400', '401', '500', '503'],
      'GET /sites/{site_id}': ['200', '400', '401', '403', '404', '500', '503'],
      'PATCH /sites/{site_id}': ['200', '400', '401', '404', '409', '413', '415', '500', '503'],
      'DELETE /sites/{site_id}': ['202', '400', '401', '404', '500', '503'],
      'GET /stats': ['200', '400', '401', '403', '404', '500', '503'],
      'POST /api/v2/query': ['200', '400', '401', '403', '404', '413', '415', '429', '500', '503'],
      'GET /dashboard': ['200', '400', '401', '403', '404', '500', '503'],
      'POST /metrics': ['202', '400', '401', '413', '415', '429', '500', '503'],
      'GET /metrics/query': ['200', '400', '401', '403', '404', '500', '503'],
      'GET /export': ['200', '400', '401', '404', '500', '503'],
      'GET /users/{user_id}/events': ['200', '400', '401', '404', '500', '503'],
      'DELETE /users/{user_id}': ['202', '400', '401', '404', '500', '503'],
      'GET /user-erasures/{request_id}': ['200', '400', '401', '404', '500', '503'],
      'GET /admin/queues': ['200', '401', '405'],
      'GET /health': ['200', '503'],
      'GET /health/live': ['200'],
      'GET /health/ready': ['200', '503'],
      'GET /js/script.js': ['200', '304'],
      'POST /v1/batch': ['200', '400', '401', '429', '500', '503'],
      'POST /v1/{type}': ['200', '400', '401', '429', '500', '503'],
      'POST /api/event': ['202', '400', '401', '413', '415', '429', '500', '503'],
      'POST /api/send': ['200', '400', '401', '403', '413', '415', '429', '500', '503'],
    };
    for (const [endpoint, statuses] of Object.entries(expected)) {
      const [method, route] = endpoint.split(' ') as [string, string];
      const operation = api.paths[route]?.[method.toLowerCase()];
      expect(operation).toBeDefined();
      expect(Object.keys(operation!.responses)).toEqual(expect.arrayContaining(statuses));
    }
  });

  it('when an endpoint answers an error, then its documented body is the error body', async () => {
    const api = (await SwaggerParser.dereference(DOCUMENT)) as unknown as Document;
    const errorSchema = api.components.schemas.Error!;
    for (const [route, methods] of Object.entries(api.paths)) {
      if (route.startsWith('/health')) continue;
      for (const operation of Object.values(methods)) {
        if (typeof operation !== 'object' || !operation.responses) continue;
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          expect(response.content?.['application/json']?.schema).toEqual(errorSchema);
        }
      }
    }
    expect(errorSchema.required).toEqual(['success', 'error', 'code', 'request_id', 'details']);
  });

  it('when read, then the request limits of the contract are in the schemas', () => {
    const { schemas, securitySchemes } = load().components;
    const event = schemas.Event as { properties: Record<string, Record<string, unknown>> };
    expect(event.properties.site_id).toEqual({ $ref: '#/components/schemas/SiteId' });
    expect(schemas.SiteId).toMatchObject({ pattern: '^[A-Za-z0-9._-]{1,64}$', maxLength: 64 });
    expect(schemas.EventId).toMatchObject({ pattern: '^[A-Za-z0-9_-]{1,64}$', maxLength: 64 });
    expect(event.properties.event_type).toMatchObject({ pattern: '^[^\\p{Cc}\\p{Cs}]{1,120}$' });
    expect(event.properties.path).toMatchObject({ maxLength: 2048, pattern: '^/' });
    expect(event.properties.user_id).toMatchObject({ minLength: 1, maxLength: 256 });
    expect(event.properties.referrer).toMatchObject({ maxLength: 2048 });
    expect(event.properties.props).toMatchObject({ maxProperties: 20, propertyNames: { maxLength: 64 } });
    expect(event.properties.context).toEqual({ $ref: '#/components/schemas/EventContext' });
    expect(schemas.EventContext).toMatchObject({
      additionalProperties: false,
      properties: { user_agent: { minLength: 1, maxLength: 512 } },
    });
    expect((schemas.BatchRequest as { properties: Record<string, unknown> }).properties.events).toMatchObject(
      {
        minItems: 1,
        maxItems: 500,
      },
    );
    expect(securitySchemes).toMatchObject({
      writeKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      readBearer: { type: 'http', scheme: 'bearer' },
      adminBearer: { type: 'http', scheme: 'bearer' },
    });
  });
});
