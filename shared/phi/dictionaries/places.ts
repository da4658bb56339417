/** US cities (largest by population, plus ones common in examples) and state names/abbreviations. */
export const CITIES =
  `New York|Los Angeles|Chicago|Houston|Phoenix|Philadelphia|San Antonio|San Diego|Dallas|San Jose|Austin|
Jacksonville|Fort Worth|Columbus|Charlotte|San Francisco|Indianapolis|Seattle|Denver|Washington|Boston|El Paso|Nashville|Detroit|
Oklahoma City|Portland|Las Vegas|Memphis|Louisville|Baltimore|Milwaukee|Albuquerque|Tucson|Fresno|Sacramento|Kansas City|Mesa|
Atlanta|Omaha|Colorado Springs|Raleigh|Long Beach|Virginia Beach|Miami|Oakland|Minneapolis|Tulsa|Bakersfield|Wichita|Arlington|
Aurora|Tampa|New Orleans|Cleveland|Honolulu|Anaheim|Lexington|Stockton|Corpus Christi|Henderson|Riverside|Newark|Saint Paul|
St. Paul|Santa Ana|Cincinnati|Irvine|Orlando|Pittsburgh|St. Louis|Greensboro|Jersey City|Anchorage|Lincoln|Plano|Durham|Buffalo|
Chandler|Chula Vista|Toledo|Madison|Gilbert|Reno|Fort Wayne|North Las Vegas|St. Petersburg|Lubbock|Irving|Laredo|Winston-Salem|
Chesapeake|Glendale|Garland|Scottsdale|Norfolk|Boise|Fremont|Spokane|Santa Clarita|Baton Rouge|Richmond|Hialeah|San Bernardino|
Tacoma|Modesto|Huntsville|Des Moines|Yonkers|Rochester|Moreno Valley|Fayetteville|Fontana|Columbus|Worcester|Port St. Lucie|
Little Rock|Augusta|Oxnard|Birmingham|Montgomery|Frisco|Amarillo|Salt Lake City|Grand Rapids|Huntington Beach|Overland Park|
Tallahassee|Cape Coral|Mobile|Knoxville|Shreveport|Providence|Brownsville|Akron|Springfield|Hartford|Burlington|Ann Arbor|Berkeley|
Cambridge|Evanston|Pasadena|Savannah|Charleston|Asheville|Santa Fe|Boulder|Eugene|Olympia|Juneau|Concord|Albany|Trenton|Dover|
Annapolis|Harrisburg|Montpelier|Augusta|Bangor|Duluth|Fargo|Sioux Falls|Billings|Missoula|Cheyenne|Topeka|Lansing|Flint|Dayton|
Syracuse|Scranton|Allentown|Erie|Peoria|Joliet|Naperville|Rockford|Green Bay|Oshkosh|Cedar Rapids|Davenport|Bloomington|Gainesville`
    .split("|")
    .map((city) => city.trim())
    .filter(Boolean);

export const STATES =
  `AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI
SC SD TN TX UT VT VA WA WV WI WY DC`.split(/\s+/);

export const STATE_NAMES =
  `Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|
Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|
Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|
Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming`
    .split("|")
    .map((state) => state.trim());

/**
 * Cities and towns outside the US (European and Latin American, local and English spellings), for
 * "moved to Kraków" and for the city after an address line. Countries are not PHI and stay out.
 */
export const WORLD_CITIES =
  `London|Manchester|Birmingham|Liverpool|Leeds|Glasgow|Edinburgh|Bristol|Cardiff|Belfast|Dublin|Cork|Galway|Limerick|Paris|
Lyon|Marseille|Toulouse|Nice|Nantes|Strasbourg|Bordeaux|Lille|Montpellier|Rennes|Berlin|Hamburg|München|Munich|Köln|Cologne|
Frankfurt|Stuttgart|Düsseldorf|Dortmund|Essen|Leipzig|Dresden|Hannover|Nürnberg|Bremen|Bonn|Wien|Vienna|Graz|Linz|Salzburg|
Innsbruck|Zürich|Zurich|Genève|Geneva|Basel|Bern|Lausanne|Luzern|Bruxelles|Brussels|Brussel|Antwerpen|Antwerp|Gent|Ghent|Liège|
Amsterdam|Rotterdam|Den Haag|Utrecht|Eindhoven|Groningen|Luxembourg|København|Copenhagen|Aarhus|Odense|Stockholm|Göteborg|
Gothenburg|Malmö|Uppsala|Oslo|Bergen|Trondheim|Helsinki|Espoo|Tampere|Turku|Reykjavík|Reykjavik|Madrid|Barcelona|Valencia|
Sevilla|Seville|Zaragoza|Málaga|Bilbao|Murcia|Palma|Granada|Alicante|Valladolid|Vigo|Lisboa|Lisbon|Porto|Braga|Coimbra|Faro|
Roma|Rome|Milano|Milan|Napoli|Naples|Torino|Turin|Palermo|Genova|Bologna|Firenze|Florence|Venezia|Venice|Verona|Bari|Catania|
Warszawa|Warsaw|Kraków|Krakow|Łódź|Wrocław|Poznań|Gdańsk|Szczecin|Lublin|Katowice|Praha|Prague|Brno|Ostrava|Bratislava|Košice|
Budapest|Debrecen|Szeged|Bucureşti|București|Bucharest|Cluj-Napoca|Timișoara|Iași|Sofia|Plovdiv|Varna|Athens|Athína|
Thessaloniki|Patras|Zagreb|Split|Ljubljana|Maribor|Beograd|Belgrade|Novi Sad|Sarajevo|Skopje|Tirana|Vilnius|Kaunas|Riga|Tallinn|
Tartu|Kyiv|Kiev|Lviv|Odesa|Kharkiv|Istanbul|İstanbul|Ankara|İzmir|Izmir|Ciudad de México|Mexico City|Guadalajara|Monterrey|
Puebla|Tijuana|León|Mérida|Cancún|Querétaro|Oaxaca|Bogotá|Bogota|Medellín|Medellin|Cali|Barranquilla|Cartagena|Lima|Arequipa|
Cusco|Trujillo|Quito|Guayaquil|Cuenca|Caracas|Maracaibo|Valencia|Santiago|Valparaíso|Valparaiso|Concepción|Providencia|
Buenos Aires|Córdoba|Rosario|Mendoza|La Plata|Montevideo|Asunción|La Paz|Santa Cruz|Sucre|São Paulo|Sao Paulo|Rio de Janeiro|
Brasília|Brasilia|Salvador|Fortaleza|Belo Horizonte|Manaus|Curitiba|Recife|Porto Alegre|Belém|Goiânia|Campinas|Florianópolis|
San José|San Salvador|Tegucigalpa|Managua|Panamá|Guatemala|Santo Domingo|La Habana|Havana|San Juan|Toronto|Montréal|Montreal|
Vancouver|Calgary|Ottawa|Edmonton|Winnipeg|Québec|Quebec|Halifax|Sydney|Melbourne|Brisbane|Perth|Adelaide|Auckland|Wellington|
Christchurch|Johannesburg|Cape Town|Durban|Pretoria|Lagos|Abuja|Nairobi|Accra|Kampala|Mumbai|Delhi|Bengaluru|Bangalore|Chennai|
Kolkata|Hyderabad|Tokyo|Osaka|Kyoto|Seoul|Busan|Beijing|Shanghai|Manila|Jakarta|Bangkok|Hanoi|Singapore`
    .split("|")
    .map((city) => city.trim())
    .filter(Boolean);
