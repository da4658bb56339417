/** A client whose every field the e2e suite writes, and the log-leak check then looks for. */
export const JANE = {
  name: "Janet Quillfeather",
  email: "janet.quillfeather@patients.example",
  phone: "+1 555 201 7788",
  dateOfBirth: "1971-06-14",
  address: { line1: "42 Larkspur Lane", city: "Springfield", postalCode: "62704", country: "US" },
  healthGoals: ["walk 8000 steps daily"],
  conditions: ["hypertension stage 1"],
};
