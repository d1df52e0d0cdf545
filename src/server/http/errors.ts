/** An error with an HTTP status and a message meant for the client (naming the field at fault). */
export class HttpError extends Error {
  constructor(public readonly statusCode: number, message: string, public readonly field?: string) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (field: string, message: string) => new HttpError(400, `${field}: ${message}`, field);
export const notFound = (what: string) => new HttpError(404, `${what} not found`);
export const forbidden = (message = 'not allowed') => new HttpError(403, message);
export const unauthorized = (message = 'missing or invalid bearer token') => new HttpError(401, message);
