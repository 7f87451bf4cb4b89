// The same client plugin developers get from the SDK's test harness.
export { TestClient, type ApiResponse } from '../../../sdk/src/testing/client.js';
