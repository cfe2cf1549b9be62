// Helpers for the OpenFGA-compatible API tests: a document model in OpenFGA's JSON and an
// @openfga/sdk client that authenticates with a Gatehouse access token.
import { OpenFgaClient, CredentialsMethod } from '@openfga/sdk';

// user, group#member, and documents viewable by users (optionally only in a region), groups and
// owners.
export const documentModel = {
  schema_version: '1.1',
  type_definitions: [
    { type: 'user' },
    {
      type: 'group',
      relations: { member: { this: {} } },
      metadata: { relations: { member: { directly_related_user_types: [{ type: 'user' }] } } },
    },
    {
      type: 'document',
      relations: {
        owner: { this: {} },
        viewer: { union: { child: [{ this: {} }, { computedUserset: { relation: 'owner' } }] } },
      },
      metadata: {
        relations: {
          owner: { directly_related_user_types: [{ type: 'user' }] },
          viewer: {
            directly_related_user_types: [
              { type: 'user' }, { type: 'user', wildcard: {} }, { type: 'group', relation: 'member' },
              { type: 'user', condition: 'in_region' },
            ],
          },
        },
      },
    },
  ],
  conditions: {
    in_region: {
      name: 'in_region',
      expression: 'region == "eu"',
      parameters: { region: { type_name: 'TYPE_NAME_STRING' } },
    },
  },
};

// An SDK client acting as `who` (a signUp result), optionally bound to a store and model.
export function fgaClient(gh, who, storeId, authorizationModelId) {
  return new OpenFgaClient({
    apiUrl: `${gh.url}/fga`,
    storeId,
    authorizationModelId,
    credentials: { method: CredentialsMethod.ApiToken, config: { token: who.token } },
    retryParams: { maxRetry: 0 },
  });
}
