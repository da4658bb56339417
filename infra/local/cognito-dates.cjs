// Preloaded into the cognito-local child only (see cognito.ts). cognito-local answers every timestamp
// (UserCreateDate, UserLastModifiedDate …) in whole epoch seconds: the replacer it gives JSON.stringify
// floors them. Cognito answers epoch seconds with milliseconds, and the invitation job compares an
// account's creation with the invitation's to the millisecond (`isOwnEarlierAttempt` in
// shared/people/cognito.ts). With this, the local stand-in answers with the milliseconds, as the service does.
"use strict";

const stringify = JSON.stringify;
JSON.stringify = (value, replacer, space) => {
  if (typeof replacer !== "function") return stringify(value, replacer, space);
  return stringify(
    value,
    function preciseDates(key, item) {
      const raw = this[key];
      return raw instanceof Date ? raw.getTime() / 1000 : replacer.call(this, key, item);
    },
    space,
  );
};
