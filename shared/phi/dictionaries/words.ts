/**
 * Capitalized words that are never a name here: calendar words, drug and brand names (so "Ozempic"
 * or "Dr. Pepper" stay), and the common words that start sentences.
 */
export const MONTHS =
  "January February March April May June July August September October November December".split(" ");
export const WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(" ");

export const DRUGS =
  `Metformin Lisinopril Atorvastatin Amlodipine Levothyroxine Omeprazole Simvastatin Losartan Gabapentin Sertraline
Hydrochlorothiazide Furosemide Prednisone Ibuprofen Acetaminophen Aspirin Insulin Ozempic Wegovy Mounjaro Zepbound Jardiance
Januvia Trulicity Victoza Lipitor Crestor Zoloft Prozac Lexapro Xanax Ativan Ambien Adderall Ritalin Wellbutrin Cymbalta Effexor
Synthroid Eliquis Xarelto Coumadin Warfarin Plavix Lasix Norvasc Advil Tylenol Motrin Aleve Benadryl Claritin Zyrtec Allegra
Flonase Nexium Prilosec Pepcid Zantac Tums Melatonin Humira Keytruda Albuterol Ventolin Symbicort Advair Spiriva Singulair
Montelukast Fluoxetine Escitalopram Bupropion Duloxetine Venlafaxine Trazodone Quetiapine Seroquel Abilify Lithium Lamictal
Lamotrigine Topamax Topiramate Keppra Naproxen Tramadol Oxycodone Hydrocodone Morphine Fentanyl Suboxone Naloxone Narcan
Vitamin Magnesium Zinc Glucophage Glipizide Pioglitazone Rybelsus Farxiga Entresto Carvedilol Metoprolol Atenolol Propranolol
Clonidine Spironolactone Rosuvastatin Pravastatin Ezetimibe Zetia Allopurinol Colchicine Tamsulosin Flomax Finasteride Viagra
Cialis Valtrex Acyclovir Amoxicillin Augmentin Azithromycin Zithromax Doxycycline Cipro Ciprofloxacin Keflex Cephalexin Bactrim`
    .split(/\s+/)
    .filter(Boolean);

/** Title + word pairs that are products, not people. */
export const BRANDS = [
  "Dr. Pepper",
  "Dr Pepper",
  "Mr. Clean",
  "Mr Clean",
  "Dr. Martens",
  "Mrs. Dash",
  "Dr. Scholl",
  "Mr. Coffee",
  "Dr. Oetker",
  "Mr. Bean",
];

export const COMMON =
  `The A An And But Or If Then So Yes No Not Now Today Tomorrow Yesterday This That These Those There Here When Where What
Why How Who Which While After Before During Since Until Also Just Still Very Really Maybe Okay Ok Well Good Great Thanks Thank Please
Sorry Hi Hello Hey Bye Morning Afternoon Evening Night Coach Client Patient Doctor Nurse Mom Dad Mother Father Sister Brother Wife
Husband Son Daughter Friend Team Group Session Plan Goal Goals Week Weeks Month Year Years Day Days Note Notes Follow Visit Call
Email Phone Fax Address Street Avenue Road Lane Drive Court Apt Suite Unit Room Floor Building Hospital Clinic Center Medical Health
Care Insurance Medicare Medicaid Blue Cross Shield Aetna Cigna Humana Kaiser Diabetes Type Stage Blood Pressure Heart Sleep Diet
Exercise Walking Running Yoga Weight Stress Anxiety Depression Pain I I'm I've I'll I'd We We're You You're He She They It It's My
Our Your His Her Their Me Us Them Christmas Easter Thanksgiving Halloween New Year Covid COVID Zoom Teams Google Apple Fitbit Garmin
Peloton Noom WeightWatchers Starbucks Walmart Target Costco Amazon Netflix Spanish English French Chinese American Mexican Catholic
Jewish Muslim Christian Buddhist Hindu North South East West Main Park Lake River Hill Valley Spring Summer Fall Winter Autumn Let
Let's Can Could Would Should Will Shall May Might Must Do Does Did Is Are Was Were Be Been Have Has Had Got Get Go Going Went Come
Came See Saw Said Says Tell Told Ask Asked Try Tried Keep Kept Feel Felt Think Thought Know Knew Want Wanted Need Needed Like Liked
Love Loved Take Took Make Made Give Gave Find Found Work Worked Start Started Stop Stopped Begin Began Check Checked Next Last First
Second Third One Two Three Four Five Six Seven Eight Nine Ten All Any Some Every Each Both Either Neither Most More Less Few Many
Much Other Another Such Same Different New Old High Low Big Small Long Short Early Late Right Left Best Better Worse Worst Overall
Assessment Subjective Objective Reason History Diagnosis Medications Allergies Vitals Labs Impression Summary Discharge Admission
Chief Complaint Present Illness Review Systems Physical Exam Results Recommendations Instructions Signed Dictated Transcribed Re
Subject From To Cc Regarding Attn Dear Sincerely Regards Best Warm Kind`
    .split(/\s+/)
    .filter(Boolean);

/** Occupations, recognized after cues such as "works as a", "I'm a", "retired", "occupation:". */
export const PROFESSIONS =
  `teacher, nurse, firefighter, police officer, accountant, engineer, software engineer, developer, programmer,
lawyer, attorney, paralegal, electrician, plumber, carpenter, mechanic, chef, cook, baker, waiter, waitress, bartender, barista,
cashier, pharmacist, physician, surgeon, dentist, dental hygienist, veterinarian, therapist, counselor, social worker, psychologist,
professor, librarian, architect, designer, graphic designer, artist, musician, writer, journalist, editor, photographer, pilot,
flight attendant, truck driver, bus driver, driver, farmer, rancher, fisherman, soldier, sailor, contractor, construction worker,
welder, machinist, janitor, custodian, housekeeper, nanny, caregiver, home health aide, receptionist, secretary, administrator,
manager, store manager, salesperson, sales rep, realtor, real estate agent, banker, analyst, consultant, clerk, mail carrier,
postal worker, paramedic, EMT, pastor, minister, priest, rabbi, personal trainer, hairdresser, hairstylist, barber, cosmetologist,
tailor, student, graduate student, scientist, researcher, economist, actuary, auditor, bookkeeper, dietitian, nutritionist, midwife,
doula, optometrist, chiropractor, physical therapist, occupational therapist, pharmacy technician, lab technician, radiologist,
anesthesiologist, security guard, landscaper, gardener, roofer, painter, miner, warehouse worker, forklift operator, delivery driver,
courier, nurse practitioner, physician assistant, police detective, correctional officer, data scientist, web developer, CPA`
    .split(",")
    .map((word) => word.trim())
    .filter(Boolean);

/**
 * Words that head a line as a field label or a role ("Agent:", "Note:", "Breakfast:"), so a line label
 * is read as a speaker's name only when it is none of these, and everyday nouns that a list
 * ("Ingredients: Flour, Sugar") or a line start may capitalise.
 */
export const LABEL_WORDS =
  `Agent Customer Caller Operator Interviewer Interviewee Host Guest Moderator Speaker Panelist Presenter Audience User Assistant
Support Admin Staff Manager Teacher Student Parent Child Therapist Counselor Provider Member Participant Respondent Witness Officer
Q A Note Notes Subject Status Warning Caution Answer Question Response Reply Reason Comment Comments Feedback Action Task Owner
Priority Due Result Tip Hint Example Update Reminder Summary Intake Date Time Location Venue Price Cost Total Subtotal Tax Amount
Balance Fee Fees Population Area Breakfast Lunch Dinner Snack Snacks Dessert Ingredients Toppings Colours Colors Sizes Size Options
Menu Agenda Topic Topics Title Name Surname Tel Mobile Cell Fax Website Web Mail Post Postcode Zip City Country State Region Sender
Recipient Reference Ref Order Invoice Ticket Case Step Steps Day Week Rest Source Directions Ingredients Equipment Materials Dose
Dosage Frequency Route Duration Quantity Goal Outcome Objective Progress Score Level Rating Grade Version Release Build Error Tip
Flour Sugar Butter Eggs Milk Salt Water Oil Cheese Ham Olives Mushrooms Tomatoes Onions Garlic Bread Rice Pasta Chicken Beef Fish
Red Blue Green Yellow Black White Orange Purple Pink Brown Grey Gray Small Medium Large Extra Yes No Pending Approved Done Open
Closed Morning Afternoon Evening Weekend Weekday Today Tomorrow Yesterday Chapter Page Section Part Line Item Items Photo Video`
    .split(/\s+/)
    .filter(Boolean);
