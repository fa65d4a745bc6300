import Joi from 'joi';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment against a service's schema, listing every problem at once.
 * Unknown variables are ignored: the environment holds far more than our variables.
 */
export function parseEnv<T>(schema: Joi.ObjectSchema<T>, env: NodeJS.ProcessEnv): T {
  const { value, error } = schema.validate(env, {
    abortEarly: false,
    allowUnknown: true,
    convert: true,
    errors: { wrap: { label: false } },
  });
  if (error) {
    throw new ConfigError(
      error.details.map((d) => {
        const name = d.path.join('.');
        const got = d.context?.value;
        return `${d.message.startsWith(name) ? d.message : `${name}: ${d.message}`}${got === undefined ? '' : ` (got "${String(got)}")`}`;
      }),
    );
  }
  return value;
}

/** Deep-freezes the configuration object so nothing changes it at run time. */
export function freezeDeep<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) freezeDeep(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * The start-up guard: a bad configuration stops the service with one clear line naming the
 * variable, exit code 1, and no stack trace.
 */
export function loadConfigOrExit<T>(load: () => T, service: string): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `${service}: ${error.message}. Fix the variable in the environment or in ${service}/.env.\n`,
      );
      process.exit(1);
    }
    throw error;
  }
}
